package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"steward"
)

// requestEvent collects what the request log line reports beyond the basics.
type requestEvent struct {
	actor string
	err   error
}

type eventKey struct{}

func withEvent(ctx context.Context, ev *requestEvent) context.Context {
	return context.WithValue(ctx, eventKey{}, ev)
}

func eventOf(ctx context.Context) *requestEvent {
	if ev, ok := ctx.Value(eventKey{}).(*requestEvent); ok {
		return ev
	}
	return &requestEvent{}
}

// status maps a domain error code to an HTTP status.
func status(code string) int {
	switch code {
	case steward.EINVALID:
		return http.StatusBadRequest
	case steward.ENOTFOUND:
		return http.StatusNotFound
	case steward.ECONFLICT:
		return http.StatusConflict
	case steward.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case steward.EFORBIDDEN:
		return http.StatusForbidden
	case steward.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case steward.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case "rate_limited":
		return http.StatusTooManyRequests
	case "method_not_allowed":
		return http.StatusMethodNotAllowed
	case "unsupported_media_type":
		return http.StatusUnsupportedMediaType
	default:
		return http.StatusInternalServerError
	}
}

// Problem is an RFC 9457 problem document. Type is a relative URI naming
// the error code; docs/api.md lists them.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
}

func slogLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}

// problem writes err as a problem document. Internal errors are logged with
// their cause and shown as a generic message.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	code := steward.ErrorCode(err)
	var mbe *http.MaxBytesError
	var mna *methodNotAllowed
	switch {
	case errors.As(err, &mbe):
		code, err = steward.ETOOLARGE, steward.Errorf(steward.ETOOLARGE, "the request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &mna):
		w.Header().Set("Allow", mna.allow)
		code, err = "method_not_allowed", &steward.Error{Code: "method_not_allowed", Message: fmt.Sprintf("%s is not allowed here; allowed: %s", mna.method, mna.allow)}
	}
	eventOf(r.Context()).err = err
	st := status(code)
	p := Problem{
		Type:     "/problems/" + code,
		Title:    http.StatusText(st),
		Status:   st,
		Detail:   steward.ErrorMessage(err),
		Instance: r.URL.Path,
		Code:     code,
	}
	if st == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(st)
	_ = json.NewEncoder(w).Encode(p)
}
