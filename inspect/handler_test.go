package inspect_test

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/inspect"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

func TestListPageShowsEachMachineAndItsState(t *testing.T) {
	in := inspect.New(nil)
	clock := manual()
	newLamp(t, in, clock)
	b := newBreaker(t, in, clock)
	b.ForceOpen()

	code, ctype, body := get(t, in, "/")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "text/html; charset=utf-8", ctype)
	for _, want := range []string{
		`<a href="machine/hall">hall</a>`, `data-current="Off"`,
		`<a href="machine/payments">payments</a>`, `data-current="` + breaker.StateOpen.String() + `"`,
		"Opens <b>1</b>", "static/app.js", "static/style.css",
	} {
		assert.Contains(t, body, want)
	}
}

// svgDiagram is what a test reads of a drawn diagram.
type svgDiagram struct {
	states  []string // data-state of each state, in order
	labels  []string // the text of each state's label
	current []string // data-state of the states drawn current
	counts  map[string]string
}

// parseSVG parses an SVG diagram as XML, failing the test if it is not
// well-formed.
func parseSVG(t *testing.T, svg string) svgDiagram {
	t.Helper()
	d := svgDiagram{counts: map[string]string{}}
	dec := xml.NewDecoder(strings.NewReader(svg))
	var stack []xml.StartElement
	roots := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the diagram is not well-formed XML")
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
				require.Equal(t, "svg", tok.Name.Local)
			}
			stack = append(stack, tok)
			attr := func(name string) string {
				for _, a := range tok.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			if tok.Name.Local == "g" && strings.HasPrefix(attr("class"), "state ") {
				d.states = append(d.states, attr("data-state"))
				if strings.Contains(" "+attr("class")+" ", " current ") {
					d.current = append(d.current, attr("data-state"))
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top := stack[len(stack)-1]
			for _, a := range top.Attr {
				if top.Name.Local == "text" && a.Name.Local == "class" && a.Value == "label" {
					d.labels = append(d.labels, string(tok))
				}
				if top.Name.Local == "tspan" && a.Name.Local == "data-edge" {
					d.counts[a.Value] = string(tok)
				}
			}
		}
	}
	require.Equal(t, 1, roots)
	return d
}

func TestDiagramIsWellFormedSVGWithEveryStateAndTheCurrentOneHighlighted(t *testing.T) {
	in := inspect.New(nil)
	b := newBreaker(t, in, manual())
	var labels []string
	for _, s := range b.Definition().Graph().States {
		labels = append(labels, s.Label)
	}

	code, ctype, body := get(t, in, "/machine/payments/diagram.svg")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "image/svg+xml", ctype)
	d := parseSVG(t, body)
	assert.ElementsMatch(t, labels, d.states)
	assert.ElementsMatch(t, labels, d.labels)
	assert.Equal(t, []string{breaker.StateClosed.String()}, d.current)

	b.ForceOpen()
	_, _, body = get(t, in, "/machine/payments/diagram.svg")
	d = parseSVG(t, body)
	assert.Equal(t, []string{breaker.StateOpen.String()}, d.current)
	// The transition ForceOpen took is counted on its edge.
	n := 0
	for _, c := range d.counts {
		if c == " ×1" {
			n++
		}
	}
	assert.Equal(t, 1, n, "one edge visited once: %v", d.counts)
}

func TestMachinePageShowsDiagramStateAndRecentSteps(t *testing.T) {
	in := inspect.New(nil)
	i := newLamp(t, in, manual())
	fire(t, i, "flip")

	code, _, body := get(t, in, "/machine/hall")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `<b id="state" data-current="On">On</b>`)
	assert.Contains(t, body, `<g class="state normal current" data-state="On">`)
	assert.Contains(t, body, "<td>03:04:05.000</td><td>Off</td><td>flip</td><td>On</td>")
	for _, s := range []string{"Off", "On", "Broken"} {
		assert.Contains(t, body, `data-state="`+s+`"`)
	}
}

func TestLabelsAreEscaped(t *testing.T) {
	in := inspect.New(nil)
	g := fsm.Graph{Name: `a<b>`, States: []fsm.GraphState{{Label: `<script>alert("x")</script>`, Kind: 1}, {Label: `&amp;`, Kind: 2}},
		Edges: []fsm.GraphEdge{{From: 0, To: 1, Trigger: `"go" & <stop>`}}}
	require.NoError(t, in.Add(`<i>x</i>`, inspect.Source{Graph: g, State: func() string { return `<script>alert("x")</script>` }}))

	for _, path := range []string{"/", "/machine/%3Ci%3Ex%3C%2Fi%3E"} {
		code, _, body := get(t, in, path)
		require.Equal(t, http.StatusOK, code, path)
		assert.NotContains(t, body, "<script>alert", path)
		assert.NotContains(t, body, "<i>x</i>", path)
	}
	_, _, body := get(t, in, "/machine/%3Ci%3Ex%3C%2Fi%3E/diagram.svg")
	d := parseSVG(t, body)
	assert.Equal(t, []string{`<script>alert("x")</script>`, `&amp;`}, d.labels)
}

func TestUnknownNamesAreNotFound(t *testing.T) {
	in := inspect.New(nil)
	newLamp(t, in, manual())
	wf := newWorkflow(t, in)
	_ = wf
	for _, path := range []string{
		"/machine/nope", "/machine/nope/diagram.svg", "/workflow/nope", "/workflow/nope/diagram.svg",
		"/api/view?name=nope", "/events?name=nope", "/nope",
		"/workflow/hall",  // a machine is not a workflow
		"/machine/orders", // nor the other way round
	} {
		code, _, _ := get(t, in, path)
		assert.Equal(t, http.StatusNotFound, code, path)
	}
}

func TestAddRefusesEmptyAndDuplicateNames(t *testing.T) {
	in := inspect.New(nil)
	newLamp(t, in, manual())
	err := in.Add("hall", inspect.Source{Graph: lamp(t).Graph()})
	var ne *inspect.NameError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, "hall", ne.Name)
	assert.ErrorIs(t, err, inspect.ErrDuplicate)
	assert.ErrorIs(t, in.Add("", inspect.Source{}), inspect.ErrEmptyName)
}

func TestViewJSONIsStable(t *testing.T) {
	in := inspect.New(nil)
	i := newLamp(t, in, manual())
	fire(t, i, "flip")
	fire(t, i, "flip")
	fire(t, i, "flip")

	code, ctype, body := get(t, in, "/api/view")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "application/json", ctype)
	var got inspect.View
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	gen := uint32(3)
	want := inspect.View{
		Machines: []inspect.MachineView{{
			Name: "hall", Machine: "lamp", State: "On", Generation: &gen,
			Counters: []inspect.Counter{}, Observed: true, Steps: 3,
			Visits: map[int]int{0: 2, 1: 1},
			Recent: []inspect.Step{
				{Time: epoch, From: "Off", Event: "flip", To: "On", Transition: 0},
				{Time: epoch, From: "On", Event: "flip", To: "Off", Transition: 1},
				{Time: epoch, From: "Off", Event: "flip", To: "On", Transition: 0},
			},
		}},
		Workflows: []inspect.WorkflowView{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/api/view (-want +got):\n%s", diff)
	}
	// The keys are part of the endpoint's contract.
	const golden = `{"machines":[{"name":"hall","machine":"lamp","state":"On","generation":3,"counters":[],"observed":true,"steps":3,` +
		`"visits":{"0":2,"1":1},"recent":[` +
		`{"time":"2026-01-02T03:04:05Z","from":"Off","event":"flip","to":"On","transition":0},` +
		`{"time":"2026-01-02T03:04:05Z","from":"On","event":"flip","to":"Off","transition":1},` +
		`{"time":"2026-01-02T03:04:05Z","from":"Off","event":"flip","to":"On","transition":0}]}],"workflows":[]}`
	assert.JSONEq(t, golden, body)

	_, _, one := get(t, in, "/api/view?name=hall")
	assert.JSONEq(t, golden, one)
}

// readEvent reads the next server-sent event's data.
func readEvent(t *testing.T, r *bufio.Reader) inspect.View {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var v inspect.View
			require.NoError(t, json.Unmarshal([]byte(data), &v))
			blank, err := r.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "\n", blank)
			return v
		}
	}
}

func TestEventsSendAnUpdateAfterATransition(t *testing.T) {
	clock := manual()
	// No poll and no gap: the stream moves only when the lamp does, and
	// nothing waits on the clock.
	in := inspect.New(&inspect.Options{Clock: clock, Poll: -1, MinGap: -1})
	i := newLamp(t, in, clock)
	srv := httptest.NewServer(in)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events?name=hall", nil)
	require.NoError(t, err)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	r := bufio.NewReader(res.Body)

	v := readEvent(t, r)
	require.Len(t, v.Machines, 1)
	assert.Equal(t, "Off", v.Machines[0].State)

	fire(t, i, "flip")
	v = readEvent(t, r)
	require.Len(t, v.Machines, 1)
	assert.Equal(t, "On", v.Machines[0].State)
	assert.Equal(t, uint64(1), v.Machines[0].Steps)

	fire(t, i, "break")
	v = readEvent(t, r)
	assert.Equal(t, "Broken", v.Machines[0].State)
}

func TestEventsPollAMachineNotObserved(t *testing.T) {
	clock := manual()
	in := inspect.New(&inspect.Options{Clock: clock, MinGap: -1})
	i, err := engine.NewInstance(lamp(t), struct{}{}, engine.WithClock(clock))
	require.NoError(t, err)
	defer i.Close()
	require.NoError(t, inspect.AddMachine(in, "hall", i))
	srv := httptest.NewServer(in)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/events")
	require.NoError(t, err)
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)

	v := readEvent(t, r)
	assert.Equal(t, "Off", v.Machines[0].State)
	assert.False(t, v.Machines[0].Observed)
	fire(t, i, "flip") // no observer: only the poll can see it
	// The stream arms its poll timer (the lamp has none) after sending;
	// advance the clock once it has.
	for clock.Pending() < 1 {
		runtime.Gosched()
	}
	clock.Advance(inspect.DefaultPoll)
	v = readEvent(t, r)
	assert.Equal(t, "On", v.Machines[0].State)
	assert.Equal(t, uint64(0), v.Machines[0].Steps)
}

func TestDiagramIsDeterministic(t *testing.T) {
	in := inspect.New(nil)
	newBreaker(t, in, manual())
	_, _, a := get(t, in, "/machine/payments/diagram.svg")
	for range 5 {
		_, _, b := get(t, in, "/machine/payments/diagram.svg")
		require.Equal(t, a, b)
	}
}
