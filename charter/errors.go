package charter

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is one problem in a charter file, with its position. The JSON
// field names are for tools that report errors as JSON.
type Error struct {
	File  string `json:"file"`            // the name passed to Parse
	Line  int    `json:"line"`            // 1-based line number; always at least 1
	Field string `json:"field,omitempty"` // path of the field, e.g. "bodies[1].seats[0].group"; empty for YAML syntax errors
	Msg   string `json:"message"`

	col int // column, to order errors on the same line
}

// Error returns "file:line: field: msg", leaving out the field if it is
// empty.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	} else {
		b.WriteString("line ")
	}
	b.WriteString(strconv.Itoa(e.Line))
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a charter file, ordered by line.
type ErrorList []*Error

// Error returns the errors one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors, so that errors.As can find an *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// errorf returns an *Error. A line below 1 becomes 1.
func errorf(file string, line int, field, format string, args ...any) *Error {
	if line < 1 {
		line = 1
	}
	return &Error{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// suggest returns a hint for an unknown value: the closest of known if it is
// within two edits, else the list of known values if it is short.
func suggest(got string, known []string) string {
	best, bestDist := "", max(3, len(got)/4+1) // accept up to 2 edits, more in long words
	for _, k := range known {
		if d := editDistance(got, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(known) > 0 && len(known) <= 12 {
		return " (known: " + strings.Join(known, ", ") + ")"
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, computed on
// bytes; it gives up (returning a large value) on long inputs.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
