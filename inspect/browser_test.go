package inspect_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/inspect"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// chromium returns the path of a Chromium or Chrome binary. Outside CI a
// machine without one skips the browser test, saying why; under CI=true
// (.ci/run installs Debian's chromium package) it must run.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH (chromium, chromium-browser, google-chrome or headless-shell), and CI=true: .ci/run installs Debian's chromium package")
	}
	t.Skip("skipping the browser test: no Chromium on PATH (install Debian's chromium package; under CI=true this test fails instead)")
	return ""
}

// TestBrowserSeesTheBreakerOpen loads the inspector's pages in headless
// Chromium, opens the breaker from the test and waits for the page to show
// it through its live updates, with no reload.
func TestBrowserSeesTheBreakerOpen(t *testing.T) {
	path := chromium(t)
	started := time.Now()
	defer func() { t.Logf("browser test took %v", time.Since(started).Round(time.Millisecond)) }()

	in := inspect.New(nil) // the real clock: the browser lives on it
	b, err := breaker.New(breaker.Config{}, in.Observe("payments"))
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, inspect.AddMachine(in, "payments", b))
	newWorkflow(t, in)
	srv := httptest.NewServer(in)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // Chromium refuses to run as root with its sandbox
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc() // ends the browser process and chromedp's goroutines
	browser, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()

	closed, open := breaker.StateClosed.String(), breaker.StateOpen.String()
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`#live.on`), // the event stream is connected
	))
	listState, err := chromedp.Run(browser, chromedp.Text(`#machines tr[data-name="payments"] td.state`))
	require.NoError(t, err)
	assert.Equal(t, closed, listState)

	require.NoError(t, chromedp.Do(browser,
		chromedp.Click(`a[href="machine/payments"]`),
		chromedp.WaitVisible(`#diagram svg g.state.current[data-state="`+closed+`"]`),
		chromedp.WaitVisible(`#live.on`),
	))
	current, err := chromedp.Run(browser, chromedp.Text(`#state`))
	require.NoError(t, err)
	assert.Equal(t, closed, current)

	b.ForceOpen()
	require.NoError(t, chromedp.Do(browser,
		chromedp.WaitVisible(`#state[data-current="`+open+`"]`),
		chromedp.WaitVisible(`#diagram svg g.state.current[data-state="`+open+`"]`),
		chromedp.WaitVisible(`#recent tbody tr`), // the step that opened it
	), "the page did not show the breaker open")
	current, err = chromedp.Run(browser, chromedp.Text(`#state`))
	require.NoError(t, err)
	assert.Equal(t, open, current)
	screenshot, err := chromedp.Run(browser, chromedp.CaptureScreenshot())
	require.NoError(t, err)

	require.NotEmpty(t, screenshot)
	img, err := png.Decode(bytes.NewReader(screenshot))
	require.NoError(t, err, "the screenshot is not a PNG")
	bounds := img.Bounds()
	assert.Positive(t, bounds.Dx())
	assert.Positive(t, bounds.Dy())
	// Not blank: the page drew something other than its background.
	first := img.At(bounds.Min.X, bounds.Min.Y)
	varied := false
	for y := bounds.Min.Y; y < bounds.Max.Y && !varied; y += 7 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 7 {
			if img.At(x, y) != first {
				varied = true
				break
			}
		}
	}
	assert.True(t, varied, "the screenshot is one colour")
	if dir := os.Getenv("INSPECT_SCREENSHOT_DIR"); dir != "" {
		require.NoError(t, os.WriteFile(dir+"/breaker.png", screenshot, 0o644))
	}

	// The workflow's page loads too, with its live stream.
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(srv.URL+"/workflow/orders"),
		chromedp.WaitVisible(`#live.on`),
		chromedp.WaitVisible(`.shared .state[data-name="payments"]`),
	))
}
