package steward

import (
	"errors"
	"fmt"
)

// Error codes. Domain code returns an *Error with one of these codes when the
// caller did something wrong; every other error is internal. Each edge maps
// the codes to its own vocabulary: HTTP status, RDAP error body, DNS rcode.
const (
	EINVALID      = "invalid"      // the input is malformed or breaks a rule
	ENOTFOUND     = "not_found"    // the thing named does not exist
	ECONFLICT     = "conflict"     // the thing exists already or changed meanwhile
	EUNAUTHORIZED = "unauthorized" // no valid credentials were given
	EFORBIDDEN    = "forbidden"    // the actor may not do this under the charter
	ETOOLARGE     = "too_large"    // the input is larger than allowed
	EUNAVAILABLE  = "unavailable"  // the instance is shutting down or overloaded
	EINTERNAL     = "internal"     // anything else; details are logged, never shown
)

// Error is an error a caller can act on: a code from the list above and a
// message safe to show to the user.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, or EINTERNAL.
// It returns "" for a nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err: the message of the
// *Error in its chain, or a generic one for internal errors.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrNotFound is returned by state reads for a key that is not present.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "not found"}
