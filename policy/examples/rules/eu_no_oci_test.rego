# Tests for eu_no_oci.rego; run them with `idp policy test`.
package eu_no_oci_test

import data.idp

eu_request(environment) := {
	"kind": "MySQL",
	"name": "orders-db",
	"namespace": "team-alpha",
	"cell": "cell-eu",
	"tier": "medium",
	"environment": environment,
	"size": "large",
	"storageGB": 100,
	"ha": false,
}

oci_frankfurt := {
	"provider": "oci",
	"region": "eu-frankfurt-1",
	"runtimeCluster": "oci-fra-prod-01",
	"capabilities": ["pitr", "private_networking"],
	"scores": {"latency": 0.68, "dr": 0.65, "maturity": 0.60, "cost": 0.90},
}

aws_ireland := {
	"provider": "aws",
	"region": "eu-west-1",
	"runtimeCluster": "aws-euw1-prod-01",
	"capabilities": ["pitr", "multi_az", "private_networking", "cross_region_replication"],
	"scores": {"latency": 0.70, "dr": 0.90, "maturity": 0.90, "cost": 0.45},
}

oci_denial := "oci is not allowed for production in cell-eu (eu-frankfurt-1/oci-fra-prod-01)"

test_oci_production_in_eu_denied if {
	denials := idp.deny_candidate with input as {"request": eu_request("production"), "candidate": oci_frankfurt}
	oci_denial in denials
}

test_aws_production_in_eu_allowed if {
	denials := idp.deny_candidate with input as {"request": eu_request("production"), "candidate": aws_ireland}
	every msg in denials {
		not startswith(msg, "oci is not allowed")
	}
}

test_oci_dev_in_eu_allowed if {
	denials := idp.deny_candidate with input as {"request": eu_request("dev"), "candidate": oci_frankfurt}
	not oci_denial in denials
}

test_oci_production_in_other_cell_allowed if {
	request := object.union(eu_request("production"), {"cell": "cell-us-east"})
	denials := idp.deny_candidate with input as {"request": request, "candidate": oci_frankfurt}
	not oci_denial in denials
}
