package rlhf

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients see them on the wire and the HTTP
// layer maps each to one status code.
const (
	EInvalid      = "invalid"      // the request is malformed or a field is wrong
	ENotFound     = "not_found"    // no such thing, or not yours (the two are not told apart)
	EConflict     = "conflict"     // the request contradicts the current state (a second vote)
	ENotReady     = "not_ready"    // the thing exists but cannot take this yet (voting while streaming)
	ELimit        = "limit"        // a cap was reached (concurrent battles, turns, body size)
	ERateLimited  = "rate_limited" // too many requests of one kind for now; the answer says when to retry
	EUnavailable  = "unavailable"  // the server cannot take this now (store backlog, no models)
	EUnauthorized = "unauthorized" // no or bad credentials
	EForbidden    = "forbidden"    // credentials fine, permission missing
	// EAccountRequired: the arena takes battles only from signed-in
	// contributors (contributors.require_account).
	EAccountRequired = "account_required"
	EUpstream        = "upstream" // a model endpoint failed
	ETimeout         = "timeout"  // a model endpoint stalled
	EInternal        = "internal" // a bug or an unexpected failure; details only in the log
)

// Error is a domain error: a stable code and a message that is safe to show
// to a client. Err, when set, is the cause and goes only to the log.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err: the message of the
// first *Error in its chain, or a generic text for any other error.
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
