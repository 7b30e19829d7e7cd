package inspect

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sync"
	"time"
)

//go:embed assets
var assets embed.FS

// pages are the HTML templates, parsed once.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"clock": func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
		"seg":   url.PathEscape,
	}).ParseFS(assets, "assets/*.html"))
})

// ServeHTTP serves the inspector's pages, relative to where it is
// mounted (see the package documentation):
//
//	/                          the list of machines and workflows
//	/machine/{name}            one machine: diagram, state, counters, recent steps
//	/machine/{name}/diagram.svg
//	/workflow/{name}           one workflow: diagram, counters, recent executions
//	/workflow/{name}/diagram.svg
//	/api/view[?name=N]         the View as JSON (one entry's with name)
//	/events[?name=N]           the View as server-sent events, on each change
//	/static/                   the pages' script and style sheet
//
// An unknown name is a 404.
func (in *Inspector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.muxOnce.Do(func() {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /{$}", in.serveList)
		mux.HandleFunc("GET /machine/{name}", in.serveMachine)
		mux.HandleFunc("GET /machine/{name}/diagram.svg", in.serveDiagram)
		mux.HandleFunc("GET /workflow/{name}", in.serveWorkflow)
		mux.HandleFunc("GET /workflow/{name}/diagram.svg", in.serveDiagram)
		mux.HandleFunc("GET /api/view", in.serveView)
		mux.HandleFunc("GET /events", in.serveEvents)
		static, _ := fs.Sub(assets, "assets/static")
		mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
		in.mux = mux
	})
	in.mux.ServeHTTP(w, r)
}

// pageData is what a page's template reads.
type pageData struct {
	Base     string // the relative path from the page to the mount point
	Title    string
	Page     string // list, machine or workflow
	Name     string
	View     View
	Machine  MachineView
	Workflow WorkflowView
	Diagram  template.HTML // drawSVG's output, every label escaped
}

func (in *Inspector) serveList(w http.ResponseWriter, r *http.Request) {
	in.render(w, "list.html", pageData{Base: "./", Title: "statecraft inspector", Page: "list", View: in.View()})
}

func (in *Inspector) serveMachine(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	e, ok := in.lookup(name)
	if !ok || e.runs != nil {
		http.Error(w, "inspect: no machine named "+name, http.StatusNotFound)
		return
	}
	mv := e.machineView()
	in.render(w, "machine.html", pageData{
		Base: "../", Title: name, Page: "machine", Name: name, Machine: mv,
		Diagram: template.HTML(drawSVG(e.src.Graph, mv.State, mv.Visits)),
	})
}

func (in *Inspector) serveWorkflow(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	e, ok := in.lookup(name)
	if !ok || e.runs == nil {
		http.Error(w, "inspect: no workflow named "+name, http.StatusNotFound)
		return
	}
	wv := e.workflowView()
	in.render(w, "workflow.html", pageData{
		Base: "../", Title: name, Page: "workflow", Name: name, Workflow: wv, View: in.View(),
		Diagram: template.HTML(drawSVG(e.src.Graph, "", wv.Visits)),
	})
}

func (in *Inspector) serveDiagram(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	e, ok := in.lookup(name)
	if !ok {
		http.Error(w, "inspect: no machine or workflow named "+name, http.StatusNotFound)
		return
	}
	var svg []byte
	if e.runs != nil {
		_, visits, _ := e.runs.read()
		svg = drawSVG(e.src.Graph, "", visits)
	} else {
		mv := e.machineView()
		svg = drawSVG(e.src.Graph, mv.State, mv.Visits)
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(svg) //nolint:errcheck // the client went away
}

// render executes the template name into a buffer first, so that an error
// is a 500, not half a page.
func (in *Inspector) render(w http.ResponseWriter, name string, d pageData) {
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, d); err != nil {
		http.Error(w, "inspect: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes()) //nolint:errcheck // the client went away
}

// viewJSON returns the JSON of the View, or of one entry's with a name;
// false for an unknown name.
func (in *Inspector) viewJSON(name string) ([]byte, bool) {
	v := in.View()
	if name != "" {
		var ok bool
		if v, ok = in.viewOf(name); !ok {
			return nil, false
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("inspect: " + err.Error()) // a View has only plain fields
	}
	return b, true
}

func (in *Inspector) serveView(w http.ResponseWriter, r *http.Request) {
	b, ok := in.viewJSON(r.URL.Query().Get("name"))
	if !ok {
		http.Error(w, "inspect: no machine or workflow named "+r.URL.Query().Get("name"), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b) //nolint:errcheck // the client went away
}

// serveEvents streams the View (or one entry's) as server-sent events:
// one at once, then one each time it changes. A change is noticed when an
// observed machine takes a step or a workflow records an execution, and
// otherwise every Poll; updates are at least MinGap apart. The stream ends
// when the client goes away.
func (in *Inspector) serveEvents(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if _, ok := in.viewJSON(name); !ok {
		http.Error(w, "inspect: no machine or workflow named "+name, http.StatusNotFound)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	var last []byte
	for {
		changed := in.changes() // before reading, so no change is missed
		b, ok := in.viewJSON(name)
		if !ok {
			return // unregistered meanwhile: not possible today
		}
		if !bytes.Equal(b, last) {
			last = b
			if _, err := w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			if in.minGap > 0 && in.sleep(ctx, in.minGap) != nil {
				return
			}
		}
		var tick <-chan struct{}
		var timer interface{ Stop() bool }
		if in.poll > 0 {
			c := make(chan struct{})
			timer = in.clock.AfterFunc(in.poll, func() { close(c) })
			tick = c
		}
		select {
		case <-changed:
		case <-tick:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// sleep waits d on the inspector's clock, or until ctx is done.
func (in *Inspector) sleep(ctx context.Context, d time.Duration) error {
	return in.clock.Sleep(ctx, d)
}
