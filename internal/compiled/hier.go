package compiled

// The hierarchy of a hierarchical machine (Machine.Hier). Drivers only
// ever stand in a leaf; a composite state is active while one of its
// descendants is. Everything that depends on the hierarchy alone is worked
// out here when the definition is built, so that firing stays one indexed
// lookup: each leaf's row of the (state, event) table already holds the
// transitions its ancestors declare, innermost first, and each edge knows
// the states it enters.

// Drill returns the leaf entered when state s is entered: s itself, or
// for a composite state its initial child's leaf, and so on down.
func (m *Machine[S, E, D]) Drill(s int) int {
	for m.States[s].InitialChild >= 0 {
		s = m.States[s].InitialChild
	}
	return s
}

// Within reports whether state s is a or one of a's descendants. With a
// negative a (the root) it is always true.
func (m *Machine[S, E, D]) Within(s, a int) bool {
	if a < 0 {
		return true
	}
	for ; s >= 0; s = m.States[s].Parent {
		if s == a {
			return true
		}
	}
	return false
}

// IsIn reports whether state id is active when the machine stands in leaf
// cur: it is cur or one of cur's ancestors.
func (m *Machine[S, E, D]) IsIn(cur int, id S) bool {
	k := m.StateIndex(id)
	return k >= 0 && m.Within(cur, k)
}

// Domain returns the innermost state that is a proper ancestor of both a
// and b, or -1 when only the root is.
func (m *Machine[S, E, D]) Domain(a, b int) int {
	for p := m.States[a].Parent; p >= 0; p = m.States[p].Parent {
		if m.Within(b, p) && p != b {
			return p
		}
	}
	return -1
}

// enterPath lists the states entered when s is entered from inside domain
// (a proper ancestor of s, or -1): s's ancestors below domain, outermost
// first, then s, then s's initial descendants.
func (m *Machine[S, E, D]) enterPath(domain, s int) []int32 {
	var up []int32
	for k := s; k != domain && k >= 0; k = m.States[k].Parent {
		up = append(up, int32(k))
	}
	path := make([]int32, 0, len(up)+4)
	for j := len(up) - 1; j >= 0; j-- {
		path = append(path, up[j])
	}
	for k := m.States[s].InitialChild; k >= 0; k = m.States[k].InitialChild {
		path = append(path, int32(k))
	}
	return path
}

// layoutHier finishes Layout for a hierarchical machine: each edge's
// domain, destination and entry path; each leaf's rows holding its
// ancestors' transitions after its own; the fast-path tables judged per
// leaf, since what a transition exits depends on the leaf it starts from.
func (m *Machine[S, E, D]) layoutHier() {
	for i := range m.Edges {
		e := &m.Edges[i]
		e.Dest = m.Drill(e.To)
		if e.Internal {
			e.Domain, e.Dest = e.From, e.From // nothing is exited
			continue
		}
		e.Domain = m.Domain(e.From, e.To)
		e.Enter = m.enterPath(e.Domain, e.To)
	}
	nE := len(m.Events)
	own := append([]span(nil), m.spans...)
	m.newFastTables()
	for s := range m.States {
		for ev := 0; ev < nE; ev++ {
			k := s*nE + ev
			if m.States[s].InitialChild >= 0 {
				continue // a composite is never the current state
			}
			// Candidates innermost first, up to the first unguarded one.
			var slots []int32
			for a := s; a >= 0; a = m.States[a].Parent {
				sp := own[a*nE+ev]
				for j := sp.start; j < sp.start+sp.n; j++ {
					slots = append(slots, j)
				}
				if sp.n > 0 && m.Edges[sp.start+sp.n-1].Guard == nil {
					break
				}
			}
			switch {
			case len(slots) == 0:
			case contiguous(slots):
				m.spans[k] = span{slots[0], int32(len(slots))}
			default:
				start := int32(len(m.Edges))
				for _, j := range slots {
					m.Edges = append(m.Edges, m.Edges[j])
				}
				m.spans[k] = span{start, int32(len(slots))}
			}
			if sp := m.spans[k]; sp.n > 0 {
				bare, plain, enter := m.fastFrom(s, &m.Edges[sp.start])
				if bare || enter {
					m.links[k] = m.link(sp.start, enter)
				}
				if plain {
					m.hops[k] = m.hop(s, sp.start)
				}
			}
		}
	}
}

func contiguous(slots []int32) bool {
	for j := 1; j < len(slots); j++ {
		if slots[j] != slots[j-1]+1 {
			return false
		}
	}
	return true
}

// fastFrom judges edge e taken from leaf s as compiled.Edge.Bare and
// Plain do: no user code and no timer on any state it exits or enters.
// enter reports an edge that would be Bare but for the entry actions of
// states it enters, into a leaf that is no choice state (Link.Enter).
func (m *Machine[S, E, D]) fastFrom(s int, e *Edge[S, E, D]) (bare, plain, enter bool) {
	if e.Guard != nil || len(e.Actions) > 0 || e.Internal {
		return false, false, false
	}
	for k := s; k != e.Domain; k = m.States[k].Parent {
		if st := &m.States[k]; len(st.Exit) > 0 || len(st.Delayed) > 0 {
			return false, false, false
		}
	}
	entries := false
	for _, k := range e.Enter {
		st := &m.States[k]
		if len(st.Delayed) > 0 {
			return false, false, false
		}
		entries = entries || len(st.Entry) > 0
	}
	if entries {
		return false, false, m.States[e.Dest].Choose == nil
	}
	return true, m.States[e.Dest].Choose == nil, false
}
