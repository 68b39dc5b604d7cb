package main

import (
	"context"

	"steward"
	"steward/charter"
)

// runChecks runs the technical checks of a delegation for the workflow.
var runChecks func(ctx context.Context, t steward.TLD, rules charter.Requests) []steward.CheckResult
