package perkey

import (
	"fmt"

	"github.com/statecraft/statecraft/fsm"
)

// Diagram draws the machine each key of a registry gets once, for all of
// them: machine (such as breaker.Definition().Graph()) in a box whose
// title notes what it is kept per and the registry's bounds, such as
// "circuit breaker, one per host (at most 1024 keys, evicted after 5m0s
// idle)". key names what the keys are ("host", "tenant"). Write the result
// with fsm.WriteDot or fsm.WriteMermaid; a diagram with other machines
// can take the returned Cluster in its own DiagramOptions.Clusters
// instead.
func Diagram(machine fsm.Graph, key string, cfg Config) (fsm.Graph, fsm.DiagramOptions) {
	c := Cluster(machine, key, cfg)
	return fsm.Graph{Name: c.Graph.Name}, fsm.DiagramOptions{Clusters: []fsm.Cluster{c}}
}

// Cluster is the box of Diagram: machine retitled with its key and the
// registry's bounds (cfg, resolved; an invalid cfg is drawn as given).
func Cluster(machine fsm.Graph, key string, cfg Config) fsm.Cluster {
	if r, err := cfg.Resolve(); err == nil {
		cfg = r
	}
	idle := "never evicted idle"
	if cfg.IdleTimeout >= 0 {
		idle = fmt.Sprintf("evicted after %v idle", cfg.IdleTimeout)
	}
	machine.Name = fmt.Sprintf("%s, one per %s (at most %d keys, %s)", machine.Name, key, cfg.MaxKeys, idle)
	return fsm.Cluster{Graph: machine}
}
