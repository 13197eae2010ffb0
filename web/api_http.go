package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// The headers of the API's write contract.
const (
	IdempotencyKeyHeader   = "Idempotency-Key"
	IdempotentReplayHeader = "Idempotent-Replayed"
	// MaxIdempotencyKeyLen is the longest Idempotency-Key accepted.
	MaxIdempotencyKeyLen = 255
)

func apiWriteBody(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// headerError is a 400 that names the header that is wrong.
func apiHeaderError(header, msg string) error {
	return &firebreak.Error{Code: firebreak.EBadRequest, Message: header + " " + msg,
		Fields: []firebreak.FieldError{{Field: header, Message: msg}}}
}

// decodeRequest reads a JSON request body strictly into v (see decodeJSON). For creating requests (idem true) it
// also reads the Idempotency-Key header and returns a context-ready Idempotency whose RequestHash covers the
// method, path and body, so a key reused with another request is told apart from a retry.
func (s *Server) decodeRequest(w http.ResponseWriter, r *http.Request, v any, idem bool) (*firebreak.Idempotency, error) {
	var key string
	if idem {
		var err error
		if key, err = idempotencyKey(r); err != nil {
			return nil, err
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return nil, jsonError(err, s.cfg.MaxBodyBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := s.decodeJSON(w, r, v); err != nil {
		return nil, nameBadField(err, body, v)
	}
	if key == "" {
		return nil, nil
	}
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(body)
	return &firebreak.Idempotency{Key: key, RequestHash: hex.EncodeToString(h.Sum(nil))}, nil
}

func idempotencyKey(r *http.Request) (string, error) {
	vals := r.Header.Values(IdempotencyKeyHeader)
	if len(vals) == 0 {
		return "", nil
	}
	if len(vals) > 1 {
		return "", apiHeaderError(IdempotencyKeyHeader, "must be sent once")
	}
	k := strings.TrimSpace(vals[0])
	if k == "" {
		return "", apiHeaderError(IdempotencyKeyHeader, "must not be empty")
	}
	if len(k) > MaxIdempotencyKeyLen {
		return "", apiHeaderError(IdempotencyKeyHeader, "must be at most "+strconv.Itoa(MaxIdempotencyKeyLen)+" characters")
	}
	for _, c := range []byte(k) {
		if c < 0x21 || c > 0x7e {
			return "", apiHeaderError(IdempotencyKeyHeader, "must be printable ASCII without spaces")
		}
	}
	return k, nil
}

// nameBadField completes a decoding error that names no field (a value's own UnmarshalJSON failed, as for a
// malformed timestamp) by finding the first value in the body that does not decode into its field.
func nameBadField(err error, body []byte, v any) error {
	var e *firebreak.Error
	if !errors.As(err, &e) || e.Code != firebreak.EInvalid || len(e.Fields) > 0 {
		return err
	}
	path, t := badValuePath(body, reflect.TypeOf(v).Elem(), "")
	if path == "" {
		return err
	}
	msg := "has an invalid value"
	if t == reflect.TypeFor[time.Time]() {
		msg = "must be an RFC 3339 timestamp, e.g. 2024-05-01T14:00:00Z"
	}
	return &firebreak.Error{Code: firebreak.EInvalid, Message: path + " " + msg,
		Fields: []firebreak.FieldError{{Field: path, Message: msg}}}
}

// badValuePath returns the JSON path of the first value in raw that does not decode into t, and the type it
// should have had; "" when raw decodes.
func badValuePath(raw []byte, t reflect.Type, path string) (string, reflect.Type) {
	if json.Unmarshal(raw, reflect.New(t).Interface()) == nil {
		return "", nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return path, t
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return path, t
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if sub, ok := obj[name]; ok {
				if p, ft := badValuePath(sub, f.Type, join(name)); p != "" {
					return p, ft
				}
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return path, t
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if p, ft := badValuePath(obj[k], t.Elem(), join(k)); p != "" {
				return p, ft
			}
		}
	case reflect.Slice:
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return path, t
		}
		for i, el := range arr {
			if p, ft := badValuePath(el, t.Elem(), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p, ft
			}
		}
	}
	return path, t
}

// ETags are the strong, quoted version number of a resource: "7".
func apiETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the optional If-Match header: 0 when absent (or "*": any current version), else the version the
// client last saw. An entity tag that is not one of ours can never match, so it becomes a version no resource
// has and the store answers 412.
func apiIfMatch(r *http.Request) (int64, error) {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return 0, nil
	}
	v := strings.Trim(strings.Join(vals, ","), " \t") // optional whitespace (RFC 9110), nothing else
	if v == "*" {
		return 0, nil
	}
	if strings.Contains(v, ",") {
		return 0, apiHeaderError("If-Match", `must hold a single entity tag, e.g. "7"`)
	}
	if strings.HasPrefix(v, "W/") {
		// A weak tag never matches under the strong comparison If-Match requires.
		return -1, nil
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || strings.Contains(v[1:len(v)-1], `"`) {
		return 0, apiHeaderError("If-Match", `must be a quoted entity tag as sent in ETag, e.g. "7"`)
	}
	n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64)
	if err != nil || n <= 0 {
		return -1, nil
	}
	return n, nil
}

// notModified answers 304 when If-None-Match names the current version.
func apiNotModified(w http.ResponseWriter, r *http.Request, version int64) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	tag := apiETag(version)
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			w.Header().Set("ETag", tag)
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// respond writes v with status; version > 0 adds an ETag.
func apiRespond(w http.ResponseWriter, status int, version int64, v any) {
	if version > 0 {
		w.Header().Set("ETag", apiETag(version))
	}
	writeJSON(w, status, v)
}

// created answers 201 with a Location, marking idempotent replays.
func apiCreated(w http.ResponseWriter, location string, version int64, replayed bool, v any) {
	w.Header().Set("Location", location)
	if replayed {
		w.Header().Set(IdempotentReplayHeader, "true")
	}
	apiRespond(w, http.StatusCreated, version, v)
}

// list is the envelope of every list answer.
type apiList[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func apiPageOf[T any](p *firebreak.Page[T]) apiList[T] {
	items := p.Items
	if items == nil {
		items = []T{}
	}
	return apiList[T]{Items: items, NextCursor: p.NextCursor}
}

// query validates the query string of a request: only the named parameters are allowed, each once unless
// repeatable. Errors are 422 and name the parameter.
type apiQuery struct {
	vals url.Values
	v    firebreak.Validation
}

func newAPIQuery(r *http.Request, allowed ...string) *apiQuery {
	q := &apiQuery{vals: r.URL.Query()}
	for _, name := range slices.Sorted(maps.Keys(q.vals)) {
		if !slices.Contains(allowed, name) {
			q.v.Add(name, "is not a known query parameter (known: %s)", strings.Join(allowed, ", "))
		}
	}
	return q
}

func (q *apiQuery) str(name string) string {
	vs := q.vals[name]
	if len(vs) > 1 {
		q.v.Add(name, "must be given once")
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// list reads a repeatable, comma-separated parameter.
func (q *apiQuery) list(name string) []string {
	var out []string
	for _, v := range q.vals[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func (q *apiQuery) boolean(name string) bool {
	s := q.str(name)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.v.Add(name, "must be true or false")
	}
	return b
}

func (q *apiQuery) time(name string) *time.Time {
	s := q.str(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.v.Add(name, "must be an RFC 3339 timestamp, e.g. 2024-05-01T14:00:00Z")
		return nil
	}
	return &t
}

func (q *apiQuery) limit() int {
	s := q.str("limit")
	if s == "" {
		return firebreak.DefaultLimit
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > firebreak.MaxLimit {
		q.v.Add("limit", "must be a whole number from 1 to %d", firebreak.MaxLimit)
		return firebreak.DefaultLimit
	}
	return n
}

func (q *apiQuery) err() error { return q.v.Err() }

// pageSlice pages through a short list the store returns whole (updates, action items, users). The cursor is
// the opaque key of the last item of the previous page.
func apiPageSlice[T any](q *apiQuery, items []T, key func(T) string) (apiList[T], error) {
	limit := q.limit()
	cursor := q.str("cursor")
	if err := q.err(); err != nil {
		return apiList[T]{}, err
	}
	start := 0
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		i := -1
		if err == nil {
			i = slices.IndexFunc(items, func(it T) bool { return key(it) == string(raw) })
		}
		if i < 0 {
			return apiList[T]{}, &firebreak.Error{Code: firebreak.EInvalid, Message: "cursor is not valid for this list",
				Fields: []firebreak.FieldError{{Field: "cursor", Message: "is not a cursor this list returned"}}}
		}
		start = i + 1
	}
	end := min(start+limit, len(items))
	out := apiList[T]{Items: append([]T{}, items[start:end]...)}
	if end < len(items) {
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))
	}
	return out, nil
}
