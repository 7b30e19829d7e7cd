package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar draws "[#####.....]  50%  1800/3600" on a terminal,
// redrawing in place at most every tenth of a second of wall time. Its
// output never reaches a file or a pipe: simulate draws it only on a
// terminal, so the report stays deterministic.
type progressBar struct {
	w     io.Writer
	total int
	last  time.Time
	drawn bool
}

const progressWidth = 40

// update redraws the bar if it is time to.
func (p *progressBar) update(done int) {
	now := time.Now()
	if done < p.total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	filled := done * progressWidth / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %3d%%  %d/%d executions", strings.Repeat("#", filled), strings.Repeat(".", progressWidth-filled), done*100/p.total, done, p.total)
	p.drawn = true
}

// clear erases the bar.
func (p *progressBar) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
