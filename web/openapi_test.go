package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

type openAPIDoc struct {
	OpenAPI    string                    `json:"openapi"`
	Paths      map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas         map[string]map[string]any `json:"schemas"`
		Parameters      map[string]map[string]any `json:"parameters"`
		SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
	} `json:"components"`
	raw any
}

func loadOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	b := web.OpenAPI()
	var d openAPIDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if err := json.Unmarshal(b, &d.raw); err != nil {
		t.Fatal(err)
	}
	return &d
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIMatchesRoutes keeps the document and the registered routes equal, both ways.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	srv := newServer(t, sqltest.Open(t, "sqlite"), nil)
	d := loadOpenAPI(t)
	routes := map[string]bool{}
	for _, r := range srv.APIRoutes() {
		if routes[r] {
			t.Errorf("route %s registered twice", r)
		}
		routes[r] = true
	}
	documented := map[string]bool{}
	for path, item := range d.Paths {
		for key := range item {
			if !slices.Contains(httpMethods, key) {
				if key != "parameters" && key != "summary" && key != "description" {
					t.Errorf("path %s has unexpected key %q", path, key)
				}
				continue
			}
			documented[strings.ToUpper(key)+" "+path] = true
		}
	}
	for r := range routes {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for op := range documented {
		if !routes[op] {
			t.Errorf("openapi.json documents %s, which is not a route", op)
		}
	}
	if len(routes) < 25 {
		t.Fatalf("only %d routes registered", len(routes))
	}
}

// TestOpenAPIDocument checks the document is a complete, self-consistent OpenAPI 3.1 description.
func TestOpenAPIDocument(t *testing.T) {
	d := loadOpenAPI(t)
	if !strings.HasPrefix(d.OpenAPI, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x", d.OpenAPI)
	}
	if s := d.Components.SecuritySchemes["bearer"]; s["type"] != "http" || s["scheme"] != "bearer" {
		t.Fatalf("bearer security scheme: %v", s)
	}
	for _, name := range []string{"Incident", "TimelineEvent", "StatusUpdate", "ActionItem", "Service", "User", "Token",
		"Problem", "SeverityPolicy", "IncidentList", "TimelineEventList", "StatusUpdateList", "ActionItemList",
		"ServiceList", "UserList", "SeverityPolicyList"} {
		if d.Components.Schemas[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}

	// Every $ref resolves.
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if resolve(d.raw, ref) == nil {
					t.Errorf("%s: $ref %s does not resolve", at, ref)
				}
			}
			for k, x := range v {
				walk(x, at+"/"+k)
			}
		case []any:
			for _, x := range v {
				walk(x, at+"[]")
			}
		}
	}
	walk(d.raw, "#")

	// Operations: unique ids, path parameters declared exactly, error responses as problem+json.
	ids := map[string]bool{}
	paramRE := regexp.MustCompile(`\{([^}]+)\}`)
	for path, item := range d.Paths {
		var inPath []string
		for _, m := range paramRE.FindAllStringSubmatch(path, -1) {
			inPath = append(inPath, m[1])
		}
		sort.Strings(inPath)
		for _, method := range httpMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			where := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s: missing or duplicate operationId %q", where, id)
			}
			ids[id] = true
			var declared []string
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					pm, _ = resolve(d.raw, ref).(map[string]any)
				}
				if pm["in"] == "path" {
					if pm["required"] != true {
						t.Errorf("%s: path parameter %v not required", where, pm["name"])
					}
					declared = append(declared, pm["name"].(string))
				}
			}
			sort.Strings(declared)
			if !slices.Equal(inPath, declared) {
				t.Errorf("%s: path parameters %v, declared %v", where, inPath, declared)
			}
			resps, _ := op["responses"].(map[string]any)
			public := op["security"] != nil
			if !public && (resps["401"] == nil || resps["403"] == nil) {
				t.Errorf("%s: no 401/403 responses", where)
			}
			if _, hasBody := op["requestBody"]; hasBody && (resps["400"] == nil || resps["422"] == nil || resps["413"] == nil) {
				t.Errorf("%s: a body-taking operation lacks 400/413/422", where)
			}
			for code, r := range resps {
				if code[0] != '4' && code != "default" {
					continue
				}
				rm, _ := r.(map[string]any)
				if ref, ok := rm["$ref"].(string); ok {
					rm, _ = resolve(d.raw, ref).(map[string]any)
				}
				content, _ := rm["content"].(map[string]any)
				if content["application/problem+json"] == nil {
					t.Errorf("%s: response %s is not problem+json", where, code)
				}
			}
		}
	}
}

// TestOpenAPISchemasMatchTypes keeps the schemas' properties equal to the JSON the Go types read and write.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{
		"Incident": firebreak.Incident{}, "Milestones": firebreak.Milestones{}, "DeclareInput": firebreak.DeclareInput{},
		"IncidentPatch": firebreak.IncidentPatch{}, "StatusChange": web.StatusChange{},
		"RoleAssignment": web.RoleAssignment{}, "TimelineEvent": firebreak.TimelineEvent{},
		"TimelineInput": firebreak.TimelineInput{}, "StatusUpdate": firebreak.StatusUpdate{},
		"UpdateInput": firebreak.UpdateInput{}, "ActionItem": firebreak.ActionItem{},
		"ActionItemInput": firebreak.ActionItemInput{}, "ActionItemPatch": firebreak.ActionItemPatch{},
		"Service": firebreak.Service{}, "ServiceInput": firebreak.ServiceInput{}, "ServicePatch": firebreak.ServicePatch{},
		"SeverityPolicy": web.SeverityPolicy{}, "User": firebreak.User{}, "UserInput": firebreak.UserInput{},
		"Token": firebreak.Token{}, "TokenInput": firebreak.TokenInput{}, "Problem": web.Problem{},
		"FieldError":  firebreak.FieldError{},
		"Integration": firebreak.Integration{}, "IntegrationInput": firebreak.IntegrationInput{},
		"IntegrationCreated": web.IntegrationCreated{}, "IntegrationSnippets": web.IntegrationSnippets{},
		"Alert": firebreak.Alert{}, "AlertLink": firebreak.AlertLink{}, "IntakeResult": web.IntakeResult{},
		"SearchHit": firebreak.SearchHit{}, "Span": firebreak.Span{}, "FollowUp": firebreak.FollowUp{},
		"RoutingPolicy": firebreak.RoutingPolicy{}, "RoutingRule": firebreak.RoutingRule{},
	} {
		s := d.Components.Schemas[name]
		if s == nil {
			t.Errorf("schema %s missing", name)
			continue
		}
		props, _ := s["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		want := jsonFields(reflect.TypeOf(typ))
		if !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
		}
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct { // flattened, as encoding/json does
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func resolve(doc any, ref string) any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	cur := doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}

// TestOpenAPIServed checks the document is served without authentication, byte for byte.
func TestOpenAPIServed(t *testing.T) {
	srv := newServer(t, sqltest.Open(t, "sqlite"), nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !bytes.Equal(b, web.OpenAPI()) {
		t.Fatalf("GET openapi.json: %d %s (%d bytes)", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
}
