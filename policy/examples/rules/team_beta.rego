# team-beta may not use the business_critical tier.
#
# A request admission rule: every message in `deny` refuses the request
# (`idp plan` and `idp apply` exit 1 and list the messages with this file).
package idp

deny contains msg if {
	input.request.namespace == "team-beta"
	input.request.tier == "business_critical"
	msg := sprintf(
		"%s/%s: team-beta may not use tier business_critical; choose critical or medium, or ask the platform team for an exception",
		[input.request.namespace, input.request.name],
	)
}
