package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// templates is the console's parsed template set: the shared layout and partials, and one clone per page.
type templates struct {
	base  *template.Template
	pages map[string]*template.Template
}

// layoutFiles hold the layout and the partials every page may use; every other file is one page.
var layoutFiles = []string{"templates/layout.html", "templates/partials.html", "templates/incident_parts.html",
	"templates/probe_parts.html", "templates/change_parts.html"}

// parseTemplates parses every template once; static versions the asset URLs.
func parseTemplates(static *staticAssets) (*templates, error) {
	base, err := template.New("base").Funcs(templateFuncs(static)).ParseFS(templateFS, layoutFiles...)
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{base: base, pages: map[string]*template.Template{}}
	for _, f := range files {
		if isLayoutFile(f) {
			continue
		}
		clone, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := clone.ParseFS(templateFS, f); err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(path.Base(f), ".html")
		if clone.Lookup("content") == nil {
			return nil, fmt.Errorf("template %s defines no \"content\"", f)
		}
		t.pages[name] = clone
	}
	return t, nil
}

func isLayoutFile(f string) bool {
	for _, l := range layoutFiles {
		if l == f {
			return true
		}
	}
	return false
}

func mustParseTemplates(static *staticAssets) *templates {
	t, err := parseTemplates(static)
	if err != nil {
		panic("web: parsing console templates: " + err.Error())
	}
	return t
}

// execute renders page name inside the layout.
func (t *templates) execute(w io.Writer, name string, data layoutData) error {
	p, ok := t.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	return p.ExecuteTemplate(w, "layout", data)
}

// fragment renders one partial (defined in the layout files) on its own.
func (t *templates) fragment(w io.Writer, name string, data any) error {
	return t.base.ExecuteTemplate(w, name, data)
}

// staticAsset is one embedded file with its content hash (for ETags and cache-busting URLs).
type staticAsset struct {
	body  []byte
	hash  string
	ctype string
}

type staticAssets struct{ files map[string]staticAsset }

func loadStatic() (*staticAssets, error) {
	sa := &staticAssets{files: map[string]staticAsset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		sa.files[strings.TrimPrefix(p, "static/")] = staticAsset{body: b, hash: hex.EncodeToString(sum[:6]), ctype: ct}
		return nil
	})
	return sa, err
}

func mustLoadStatic() *staticAssets {
	sa, err := loadStatic()
	if err != nil {
		panic("web: loading console assets: " + err.Error())
	}
	return sa
}

// url returns the versioned URL of an asset: it changes whenever the content does, so it can be cached forever.
func (sa *staticAssets) url(name string) string {
	if a, ok := sa.files[name]; ok {
		return "/static/" + name + "?v=" + a.hash
	}
	return "/static/" + name
}

// serveStatic serves embedded assets. A request for the current version (?v=hash) may be cached for a year;
// others are revalidated by ETag after five minutes.
func (c *console) serveStatic(w http.ResponseWriter, r *http.Request) {
	c.serveAsset(w, r, r.PathValue("path"))
}

func (c *console) serveFavicon(w http.ResponseWriter, r *http.Request) {
	c.serveAsset(w, r, "favicon.svg")
}

func (c *console) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := c.static.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	etag := `"` + a.hash + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.ctype)
	_, _ = w.Write(a.body)
}
