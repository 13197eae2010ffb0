package web

import (
	"net/http"
	"net/url"

	"github.com/firebreak/firebreak"
)

// The knowledge base in the console:
//
//	GET /search?q=&service=&severity=&since=&until=&cursor=   incidents (later post-mortems) by full text
//
// Snippets are plain text with highlight spans; the template escapes every part and wraps matches in <mark>.

func (c *console) routesSearch() {
	if _, ok := c.s.searchService(); !ok {
		return
	}
	c.s.mux.HandleFunc("GET /search", c.page(c.authed(firebreak.RoleViewer, c.searchPage)))
}

type searchPage struct {
	Q        string
	Service  string
	Severity string
	Services []firebreak.Service
	Hits     []firebreak.SearchHit
	Searched bool
	NextURL  string
	Problem  string

	// Category and Tag filter on the post-mortem's contributing factors and the incident's tags.
	Category   string
	Tag        string
	Categories []firebreak.FishboneCategory
}

func (c *console) searchPage(w http.ResponseWriter, r *http.Request, v viewer) {
	ss, _ := c.s.searchService()
	ctx := r.Context()
	vals := r.URL.Query()
	d := searchPage{Q: vals.Get("q"), Service: vals.Get("service"), Severity: vals.Get("severity"),
		Category: vals.Get("category"), Tag: vals.Get("tag"), Categories: firebreak.FishboneCategories}
	var err error
	if d.Services, err = c.allServices(ctx); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	status := http.StatusOK
	if d.Q != "" {
		// The console's form sends only some of the API's parameters; empty ones are dropped.
		for k, vs := range vals {
			if len(vs) == 1 && vs[0] == "" {
				delete(vals, k)
			}
		}
		q := &apiQuery{vals: vals}
		sq := parseSearchQuery(q, false)
		sq.Limit = 20
		if err = q.err(); err == nil {
			var p *firebreak.Page[firebreak.SearchHit]
			if p, err = ss.Search(ctx, sq); err == nil {
				d.Hits, d.Searched = p.Items, true
				if p.NextCursor != "" {
					next := url.Values{}
					for k, vs := range vals {
						next[k] = vs
					}
					next.Set("cursor", p.NextCursor)
					d.NextURL = "/search?" + next.Encode()
				}
			}
		}
		switch code := firebreak.ErrorCode(err); {
		case err == nil:
		case code == firebreak.EInvalid:
			d.Problem, status = firebreak.ErrorMessage(err), http.StatusUnprocessableEntity
		default:
			c.errorPage(w, r, v, err)
			return
		}
	}
	c.render(w, r, status, "search", layoutData{Title: "Search", Nav: "search", Viewer: v, Page: d})
}
