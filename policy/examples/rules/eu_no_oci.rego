# No OCI for production in cell-eu.
#
# A candidate filter: every message in `deny_candidate` rejects that candidate
# like a failed gate, and the message is shown among the rejections. Requests
# keep their other candidates; only this provider is ruled out.
package idp

deny_candidate contains msg if {
	input.candidate.provider == "oci"
	input.request.cell == "cell-eu"
	input.request.environment == "production"
	msg := sprintf("oci is not allowed for production in cell-eu (%s/%s)", [input.candidate.region, input.candidate.runtimeCluster])
}
