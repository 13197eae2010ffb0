// Package firebreak holds the domain of the Firebreak incident platform: its types, the rules that govern them
// (the incident lifecycle, severity policy, validation) and the service interfaces that the store implements and
// the HTTP layer and Go client expose. It imports only the standard library.
package firebreak

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error codes. Each maps to exactly one HTTP status in the web package.
const (
	EInvalid            = "invalid"             // 422: the request is well-formed but a field is wrong
	EBadRequest         = "bad_request"         // 400: the request cannot be parsed
	ENotFound           = "not_found"           // 404
	EConflict           = "conflict"            // 409: the state forbids it (e.g. an invalid transition)
	EPreconditionFailed = "precondition_failed" // 412: stale If-Match
	EUnauthorized       = "unauthorized"        // 401
	EForbidden          = "forbidden"           // 403
	ETooLarge           = "too_large"           // 413
	EGone               = "gone"                // 410: it existed but is no longer usable (an expired link)
	EInternal           = "internal"            // 500: details are logged, never shown
)

// FieldError names one wrong field of a request and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one application error type. Its Message is safe to show to users.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// Allowed lists the allowed values when a state transition is refused.
	Allowed []string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if len(e.Allowed) > 0 {
		fmt.Fprintf(&b, " (allowed: %s)", strings.Join(e.Allowed, ", "))
	}
	return b.String()
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EInternal for anything else and "" for nil.
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

// ErrorMessage returns the user-safe message of an error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Validation collects field errors; Err returns nil when there are none.
type Validation struct{ fields []FieldError }

// Add records a wrong field.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Text checks free text: at most max bytes, valid UTF-8 and no NUL bytes (which PostgreSQL refuses and
// SQLite would store, so both databases behave the same).
func (v *Validation) Text(field, s string, max int) {
	switch {
	case len(s) > max:
		v.Add(field, "must be at most %d characters", max)
	case !utf8.ValidString(s):
		v.Add(field, "must be valid UTF-8")
	case strings.ContainsRune(s, 0):
		v.Add(field, "must not contain NUL characters")
	}
}

// Err returns an EInvalid *Error listing every recorded field, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := "invalid request: " + v.fields[0].Field + " " + v.fields[0].Message
	if len(v.fields) > 1 {
		msg = fmt.Sprintf("invalid request: %d fields are wrong", len(v.fields))
	}
	return &Error{Code: EInvalid, Message: msg, Fields: v.fields}
}
