package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string                 `json:"type"`
	Title    string                 `json:"title"`
	Status   int                    `json:"status"`
	Detail   string                 `json:"detail,omitempty"`
	Instance string                 `json:"instance,omitempty"`
	Errors   []firebreak.FieldError `json:"errors,omitempty"`
	Allowed  []string               `json:"allowed,omitempty"`
}

// statusOf maps an application error code to its HTTP status: the one place this mapping lives.
func statusOf(code string) int {
	switch code {
	case firebreak.EInvalid:
		return http.StatusUnprocessableEntity
	case firebreak.EBadRequest:
		return http.StatusBadRequest
	case firebreak.ENotFound:
		return http.StatusNotFound
	case firebreak.EConflict:
		return http.StatusConflict
	case firebreak.EPreconditionFailed:
		return http.StatusPreconditionFailed
	case firebreak.EUnauthorized:
		return http.StatusUnauthorized
	case firebreak.EForbidden:
		return http.StatusForbidden
	case firebreak.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case firebreak.EGone:
		return http.StatusGone
	}
	return http.StatusInternalServerError
}

// ProblemTypeBase prefixes problem type URIs; the fragment is the error code (documented in docs/API.md).
const ProblemTypeBase = "https://firebreak.dev/problems/"

// problem writes err as application/problem+json. Internal errors are logged with the request's ids and shown
// only as "internal error".
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	code := firebreak.ErrorCode(err)
	status := statusOf(code)
	p := Problem{Type: ProblemTypeBase + code, Title: http.StatusText(status), Status: status,
		Detail: firebreak.ErrorMessage(err), Instance: r.URL.Path}
	var e *firebreak.Error
	if errors.As(err, &e) {
		p.Errors = e.Fields
		p.Allowed = e.Allowed
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "err", err.Error())
		p.Detail = "internal error"
		if i := infoFrom(r.Context()); i != nil {
			p.Detail = "internal error (request id " + i.requestID + ")"
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="firebreak"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decodeJSON reads a JSON body strictly into v: the body must be JSON, within the size limit, with no unknown
// fields, values of the right types and nothing after the value. Errors name the field that is wrong.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") &&
		!strings.HasPrefix(ct, "application/merge-patch+json") {
		return &firebreak.Error{Code: firebreak.EBadRequest, Message: "Content-Type must be application/json",
			Fields: []firebreak.FieldError{{Field: "Content-Type", Message: "must be application/json"}}}
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, s.cfg.MaxBodyBytes)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err, s.cfg.MaxBodyBytes)
		}
		return firebreak.Errorf(firebreak.EBadRequest, "request body must hold a single JSON value")
	}
	return nil
}

func jsonError(err error, limit int64) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	var fe *firebreak.Error
	switch {
	case errors.As(err, &fe): // from a type's own UnmarshalJSON, already naming its field
		return fe
	case errors.As(err, &mbe):
		return firebreak.Errorf(firebreak.ETooLarge, "request body is larger than %d bytes", limit)
	case errors.Is(err, io.EOF):
		return firebreak.Errorf(firebreak.EBadRequest, "request body is empty; a JSON object is required")
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return firebreak.Errorf(firebreak.EBadRequest, "request body is not valid JSON: %v", err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return &firebreak.Error{Code: firebreak.EInvalid, Message: fmt.Sprintf("%s has the wrong type", field),
			Fields: []firebreak.FieldError{{Field: field, Message: "must be " + jsonTypeName(te.Type)}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &firebreak.Error{Code: firebreak.EInvalid, Message: fmt.Sprintf("unknown field %q", name),
			Fields: []firebreak.FieldError{{Field: name, Message: "is not a known field"}}}
	}
	// Errors from a field's own UnmarshalJSON (e.g. a malformed time).
	return &firebreak.Error{Code: firebreak.EInvalid, Message: "invalid request body: " + err.Error()}
}

// jsonTypeName names the JSON type a Go type decodes from, by its kind (a struct or map is an object, a named
// string type such as firebreak.Severity a string).
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 timestamp"
	}
	return "an object"
}
