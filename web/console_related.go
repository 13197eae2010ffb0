package web

// The incident page's related incidents: the recurrence warning near the top ("this looks like INC-12; 3 of its
// action items are still open", linking to it) and the "Related incidents" section with each one's score and
// reasons. Both come from the store's RelatedService (sqlstore/related.go); the page shows nothing of either when
// the store is not one.

import (
	"context"
	"strings"

	"github.com/firebreak/firebreak"
)

// recurrenceView is the recurrence warning cut around the earlier incident's reference, so that the page can link
// it inside the sentence.
type recurrenceView struct {
	W             *firebreak.RecurrenceWarning
	Before, After string
}

// loadRelated fills the incident page's recurrence warning and related incidents (full page only). A failure is
// logged and leaves them out: the page is for working on the incident, and stays usable without them.
func (c *console) loadRelated(ctx context.Context, iv *incidentView) {
	rs, ok := c.s.relatedService()
	if !ok {
		return
	}
	rel, err := rs.RelatedIncidents(ctx, iv.Inc.ID, firebreak.DefaultRelatedLimit)
	if err != nil {
		c.s.log.WarnContext(ctx, "loading related incidents", "incident", iv.Ref, "err", err)
		return
	}
	iv.Related = rel
	if w := rel.Recurrence; w != nil && w.OpenActionItems > 0 {
		before, after, found := strings.Cut(w.Message, w.OfRef)
		if !found {
			before, after = w.Message+" ", ""
		}
		iv.Recurrence = &recurrenceView{W: w, Before: before, After: after}
	}
}
