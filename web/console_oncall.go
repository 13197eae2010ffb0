package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
)

// The console's on-call page: /schedules lists every schedule with who is on call now, the next shifts and the
// warnings. Schedules are edited through the API and the CLI.

// schedulesPage is the data of the schedules template.
type schedulesPage struct {
	Rows []scheduleRow
}

type scheduleRow struct {
	S        firebreak.Schedule
	Now      oncall.Shift
	Next     []oncall.Shift
	Warnings []oncall.Warning
	Error    string // the schedule cannot be computed
}

// scheduleNextShifts is how many upcoming shifts the page shows per schedule.
const scheduleNextShifts = 5

func (c *console) routesOnCall() {
	if c.s.schedules() == nil {
		return
	}
	c.s.mux.HandleFunc("GET /schedules", c.page(c.authed(firebreak.RoleViewer, c.scheduleList)))
}

func (c *console) scheduleList(w http.ResponseWriter, r *http.Request, v viewer) {
	list, err := c.s.schedules().ListSchedules(r.Context(), firebreak.ScheduleFilter{Team: r.URL.Query().Get("team")})
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	now := c.s.cfg.Now()
	d := schedulesPage{}
	for _, sc := range list {
		row := scheduleRow{S: sc}
		p, err := oncall.Compile(&sc)
		if err != nil {
			row.Error = firebreak.ErrorMessage(err)
			d.Rows = append(d.Rows, row)
			continue
		}
		row.Now = p.OnCallAt(now)
		for _, sh := range p.Shifts(now, now.Add(14*24*time.Hour)) {
			if sh.Start.After(now) && len(row.Next) < scheduleNextShifts {
				row.Next = append(row.Next, sh)
			}
		}
		row.Warnings = p.Check(now, now.Add(ScheduleCheckWindow))
		d.Rows = append(d.Rows, row)
	}
	c.render(w, r, http.StatusOK, "schedules", layoutData{Title: "On call", Nav: "schedules", Viewer: v, Page: d})
}

// Users joins usernames for display.
func (r scheduleRow) Users(sh oncall.Shift) string { return strings.Join(sh.Users, ", ") }
