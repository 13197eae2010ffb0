package web

// Knowledge-base search over HTTP:
//
//	GET /api/v1/search?q=&service=&severity=&kind=&category=&tag=&since=&until=&limit=&cursor=   (viewer)
//
// The routes exist when the IncidentService is also a SearchService (the SQL store is).

import (
	"net/http"
	"slices"
	"strings"

	"github.com/firebreak/firebreak"
)

func (s *Server) searchService() (firebreak.SearchService, bool) {
	ss, ok := s.cfg.Incidents.(firebreak.SearchService)
	return ss, ok
}

// routesSearchAPI registers GET /api/v1/search.
func (s *Server) routesSearchAPI() {
	if _, ok := s.searchService(); !ok {
		return
	}
	s.api("GET /search", firebreak.RoleViewer, s.searchAPI)
}

// parseSearchQuery reads a search's parameters (the API's and the console's are the same); required says q must
// not be blank.
func parseSearchQuery(q *apiQuery, required bool) firebreak.SearchQuery {
	sq := firebreak.SearchQuery{Q: q.str("q")}
	switch {
	case required && strings.TrimSpace(sq.Q) == "":
		q.v.Add("q", "is required: the words to search for")
	case len(sq.Q) > firebreak.MaxSearchQueryLen:
		q.v.Add("q", "must be at most %d characters", firebreak.MaxSearchQueryLen)
	}
	for _, v := range q.list("severity") {
		sev := firebreak.Severity(strings.ToUpper(v))
		if !sev.Valid() {
			q.v.Add("severity", "unknown severity %q (one of %s)", v, apiJoin(firebreak.Severities))
			continue
		}
		sq.Severities = append(sq.Severities, sev)
	}
	for _, v := range q.list("service") {
		if !firebreak.ValidSlug(v) {
			q.v.Add("service", "%q is not a service slug", v)
			continue
		}
		sq.Services = append(sq.Services, v)
	}
	for _, v := range q.list("kind") {
		k := strings.ToLower(v)
		if !slices.Contains(firebreak.SearchKinds, k) {
			q.v.Add("kind", "unknown kind %q (one of %s)", v, strings.Join(firebreak.SearchKinds, ", "))
			continue
		}
		sq.Kinds = append(sq.Kinds, k)
	}
	for _, v := range q.list("category") {
		c := firebreak.FishboneCategory(strings.ToLower(v))
		if !slices.Contains(firebreak.FishboneCategories, c) {
			q.v.Add("category", "unknown category %q (one of %s)", v, apiJoin(firebreak.FishboneCategories))
			continue
		}
		sq.Categories = append(sq.Categories, c)
	}
	for _, v := range q.list("tag") {
		tg := strings.ToLower(strings.TrimSpace(v))
		if !firebreak.ValidTag(tg) {
			q.v.Add("tag", "%q is not a tag (lowercase letters, digits and hyphens)", v)
			continue
		}
		sq.Tags = append(sq.Tags, tg)
	}
	sq.Since = q.time("since")
	sq.Until = q.time("until")
	if sq.Since != nil && sq.Until != nil && !sq.Until.After(*sq.Since) {
		q.v.Add("until", "must be after since")
	}
	sq.Limit = q.limit()
	sq.Cursor = q.str("cursor")
	return sq
}

func (s *Server) searchAPI(w http.ResponseWriter, r *http.Request) {
	ss, _ := s.searchService()
	q := newAPIQuery(r, "q", "service", "severity", "kind", "category", "tag", "since", "until", "limit", "cursor")
	sq := parseSearchQuery(q, true)
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := ss.Search(r.Context(), sq)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}
