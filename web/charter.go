package web

import (
	"errors"

	"steward"
	"steward/charter"
)

// parseCharter parses a stored charter version.
func parseCharter(rec *steward.CharterRecord) (*charter.Charter, error) {
	return charter.Parse("charter", []byte(rec.Text))
}

// checkCharter validates a charter file and lists its errors.
func checkCharter(name string, text []byte) CheckResult {
	c, err := charter.Parse(name, text)
	if err == nil {
		return CheckResult{Valid: true, Name: c.Name, Hash: c.Hash, Errors: []CheckError{}}
	}
	res := CheckResult{Errors: []CheckError{}}
	var list charter.ErrorList
	var one *charter.Error
	switch {
	case errors.As(err, &list):
		for _, e := range list {
			res.Errors = append(res.Errors, CheckError{Line: e.Line, Field: e.Field, Message: e.Msg})
		}
	case errors.As(err, &one):
		res.Errors = append(res.Errors, CheckError{Line: one.Line, Field: one.Field, Message: one.Msg})
	default:
		res.Errors = append(res.Errors, CheckError{Message: err.Error()})
	}
	return res
}
