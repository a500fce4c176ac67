# Tests for team_beta.rego; run them with `idp policy test`.
#
# Test files see every rule file at once (as `opa test` does), so assert on
# this rule's own message rather than on the size of `deny`.
package team_beta_test

import data.idp

beta_request(namespace, tier) := {
	"kind": "MySQL",
	"name": "orders-db",
	"namespace": namespace,
	"cell": "cell-us-east",
	"tier": tier,
	"environment": "production",
	"size": "large",
	"storageGB": 100,
	"ha": true,
	"drProfile": "gold",
}

beta_denial := "team-beta/orders-db: team-beta may not use tier business_critical; choose critical or medium, or ask the platform team for an exception"

test_team_beta_business_critical_denied if {
	denials := idp.deny with input as {"request": beta_request("team-beta", "business_critical")}
	beta_denial in denials
}

test_team_beta_critical_allowed if {
	denials := idp.deny with input as {"request": beta_request("team-beta", "critical")}
	not beta_denial in denials
}

test_other_team_business_critical_allowed if {
	denials := idp.deny with input as {"request": beta_request("team-alpha", "business_critical")}
	every msg in denials {
		not contains(msg, "team-beta may not use")
	}
}
