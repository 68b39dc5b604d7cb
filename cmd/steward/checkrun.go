package main

import (
	"context"

	"steward"
	"steward/charter"
	"steward/checks"
	"steward/workflow"
)

// checker runs the technical checks of change requests, querying the name
// servers on port (53 but in labs) and judging signatures at the instance's
// time.
func checker(port uint16, clock steward.Clock) workflow.Checker {
	return func(ctx context.Context, t steward.TLD, rules charter.Requests) []steward.CheckResult {
		rep := checks.Run(ctx, checks.FromTLD(t), checks.Options{Port: port, AllowLoopback: rules.AllowLoopback, AllowPrivate: rules.AllowPrivate, Now: clock.Now()})
		out := make([]steward.CheckResult, len(rep.Results))
		for i, r := range rep.Results {
			msg := r.Message
			if r.Tag != "" {
				msg = r.Tag + ": " + msg
			}
			out[i] = steward.CheckResult{Module: r.Module, Case: r.Case, Level: string(r.Level), Message: msg, Evidence: r.Evidence}
		}
		return out
	}
}
