package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/goccy/go-yaml/token"
)

// The limits Parse and ReadFile keep, so that no file, however made, costs
// more than about half a second and 100 MB to refuse or accept. The
// package comment (# Limits) says why each is what it is.
const (
	// MaxFileSize is the largest file read or parsed, in bytes: 256 KiB.
	MaxFileSize = 256 << 10
	// MaxDepth is the deepest nesting of mappings and sequences, block or
	// flow, the top-level mapping being level 1.
	MaxDepth = 64
	// MaxWidth is the most keys or items in one mapping or sequence.
	MaxWidth = 1000
	// MaxEntries is the most keys and items in a whole file, tags,
	// anchors and aliases included.
	MaxEntries = 10_000
)

// LimitError reports a file beyond one of the limits; Parse returns it in
// an *Error at the line where the limit was passed (no line for the size).
type LimitError struct {
	// Limit names the limit: "size" (MaxFileSize), "depth" (MaxDepth),
	// "width" (MaxWidth), "entries" (MaxEntries) or "documents" (a file
	// holds one YAML document).
	Limit string
	// Max is the limit's value.
	Max int
}

// Error says which limit the file passes.
func (e *LimitError) Error() string {
	switch e.Limit {
	case "size":
		return fmt.Sprintf("the file is larger than %d bytes, the most a config may be", e.Max)
	case "depth":
		return fmt.Sprintf("mappings and sequences nest more than %d deep", e.Max)
	case "width":
		return fmt.Sprintf("more than %d keys or items in one mapping or sequence", e.Max)
	case "entries":
		return fmt.Sprintf("more than %d keys, items, tags, anchors and aliases in the file", e.Max)
	case "documents":
		return "more than one YAML document: a file holds one config"
	}
	return fmt.Sprintf("the file passes the limit %s (%d)", e.Limit, e.Max)
}

// ErrNotRegular is the error of ReadFile for a path that is neither a
// regular file nor a pipe: a directory, a device such as /dev/zero, a
// socket.
var ErrNotRegular = errors.New("not a regular file or a pipe")

// ErrParser is the error Parse returns when the YAML library panics on
// a file, which it does on some malformed input (such as
// "secondary: !x 0"); the panic's value follows it in the message.
var ErrParser = errors.New("the YAML parser failed on this file")

// readLimited reads the file at path, refusing a file of more than
// MaxFileSize bytes without reading more than one byte past the limit,
// and refusing what is neither a regular file nor a pipe before reading
// anything.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch mode := fi.Mode(); {
	case mode.IsRegular():
		if fi.Size() > MaxFileSize {
			return nil, tooLarge(path)
		}
	case mode&fs.ModeNamedPipe != 0:
		// A pipe (a FIFO, a shell's <(...)) is read up to the limit.
	default:
		kind := "a directory"
		switch {
		case mode&fs.ModeDevice != 0:
			kind = "a device"
		case mode&fs.ModeSocket != 0:
			kind = "a socket"
		case !mode.IsDir():
			kind = "not a file"
		}
		return nil, Errors{{File: path, Err: ErrNotRegular, msg: ErrNotRegular.Error() + " (" + kind + ")"}}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(name string) Errors {
	return Errors{{File: name, Err: &LimitError{Limit: "size", Max: MaxFileSize}}}
}

// shape checks the tokens of a file against MaxDepth, MaxWidth and
// MaxEntries before the YAML parser builds its tree from them: the
// parser's memory grows with the square of the nesting depth, and its time
// with the square of a block mapping's width (it recurses once per key),
// so a file must be refused before it is parsed. It returns the first
// limit passed and the token where it was. The lexer that makes the
// tokens is linear in the file, and its tokens are what the parser reads,
// so strings, comments and block scalars hide nothing from the check.
//
// Flow collections are counted by their brackets and commas. A block
// collection is counted by the columns of its entries: the "- " and "? "
// indicators, and the first token of each key (an anchor or tag before it
// included); an entry at a column deeper than the innermost collection's
// opens a new one, and one at a shallower column closes the collections
// deeper than it. A sequence at its parent key's column (key: then - item)
// is a collection of its own.
func shape(tks token.Tokens) (*token.Token, *LimitError) {
	var c shapeCheck
	// The parser nests some entries at the column of the one before them,
	// or at a shallower one. The value of a tag or an anchor that ends
	// its line, or that is a block scalar, is whatever follows, and so is
	// the name of an alias that ends its line: the next entry is nested
	// (nest). A key that follows a "- " or "? " ending its
	// line is in the item or the key (nestKey).
	nest, nestKey := false, false
	for i, tk := range tks {
		if tk.Type != token.CommentType && (i == 0 || tks[i-1].Type != token.AnchorType) {
			// Tags and anchors one after the other wrap each other:
			// their chain is a nesting of its own. An anchor's name
			// does not end it.
			if tk.Type == token.TagType || tk.Type == token.AnchorType {
				c.chain++
				c.count()
				c.depth()
			} else {
				c.chain = 0
			}
		}
		switch tk.Type {
		case token.DocumentHeaderType:
			// The parser's time and memory grow with the square of the
			// number of documents; a config is one.
			c.docs++
			if c.docs > 1 {
				c.fail("documents", 1)
			}
		case token.SequenceStartType, token.MappingStartType:
			c.open(tk.Type)
		case token.SequenceEndType, token.MappingEndType:
			c.close(tk.Type)
		case token.CollectEntryType:
			c.next()
		case token.SequenceEntryType:
			if len(c.flow) > 0 {
				c.bare(true)
				break
			}
			c.entry(tk.Position.Column, true, nest)
			nest, nestKey = false, endsLine(tks, i)
		case token.MappingKeyType:
			if len(c.flow) > 0 {
				c.bare(false)
				break
			}
			c.entry(tk.Position.Column, false, nest || nestKey)
			nest, nestKey = false, endsLine(tks, i)
		case token.MappingValueType:
			if len(c.flow) > 0 {
				c.bare(false)
				break
			}
			// A ":" first on its line makes a key of what came before,
			// which may be the value of the entry above.
			first := i == 0 || tks[i-1].Position.Line < tk.Position.Line
			c.entry(tks[keyStart(tks, i)].Position.Column, false, nest || nestKey || first)
			nest, nestKey = false, false
		case token.TagType:
			nest = nest || openValue(tks, i)
		case token.AnchorType:
			// Its name is the next token, wherever it is.
			nest = nest || endsLine(tks, i) || openValue(tks, next(tks, i))
		case token.AliasType:
			// So is an alias's.
			nest = nest || endsLine(tks, i)
			c.count()
		}
		if c.err != nil {
			return tk, c.err
		}
	}
	return nil, nil
}

// next returns the index of the first token after tks[i] that is not a
// comment, or len(tks).
func next(tks token.Tokens, i int) int {
	j := i + 1
	for j < len(tks) && tks[j].Type == token.CommentType {
		j++
	}
	return j
}

// openValue reports whether the value that follows tks[i], a tag or an
// anchor's name, starts on a later line or is a block scalar.
func openValue(tks token.Tokens, i int) bool {
	j := next(tks, i)
	if i >= len(tks) || j >= len(tks) {
		return false
	}
	return tks[j].Position.Line > tks[i].Position.Line || tks[j].Type == token.LiteralType || tks[j].Type == token.FoldedType
}

// endsLine reports whether tks[i] is the last token of its line but a
// comment, and not the last of the file.
func endsLine(tks token.Tokens, i int) bool {
	j := next(tks, i)
	return j < len(tks) && tks[j].Position.Line > tks[i].Position.Line
}

// keyStart returns the index of the first token of the key whose ":" is
// tks[i]: the first token of the key's line after the last indicator. The
// key is the token before the ":", or the block scalar (| or >) that
// token is the text of; it may have started on an earlier line.
func keyStart(tks token.Tokens, i int) int {
	j := i - 1
	if j < 0 {
		return i
	}
	if j > 0 && (tks[j-1].Type == token.LiteralType || tks[j-1].Type == token.FoldedType) {
		j--
	}
	for ; j > 0 && tks[j-1].Position.Line == tks[j].Position.Line; j-- {
		switch tks[j-1].Type {
		case token.SequenceEntryType, token.MappingKeyType, token.MappingValueType, token.DocumentHeaderType,
			token.SequenceStartType, token.MappingStartType, token.CollectEntryType:
			return j
		}
	}
	return j
}

// shapeCheck is the state of shape.
type shapeCheck struct {
	// block holds the block collections open, innermost last. It does
	// not change inside a flow collection.
	block []level
	// flow holds the flow collections open, innermost last.
	flow []level
	// implicit counts the collections the parser makes inside flow
	// collections without brackets: a mapping of one pair for a key:
	// value entry of a sequence, a sequence for each "- ".
	implicit int
	// chain is the length of the chain of tags and anchors being read.
	chain   int
	entries int
	docs    int // documents started with ---
	err     *LimitError
}

// level is a collection open: the column of a block collection's entries
// or a flow collection's opening token, whether it is a sequence, and the
// entries counted in it so far.
type level struct {
	col int
	seq bool
	n   int
	// implicit counts the collections without brackets in a flow
	// collection's current entry, and keys its ":" and "?" indicators.
	implicit, keys int
}

func (c *shapeCheck) fail(limit string, max int) {
	if c.err == nil {
		c.err = &LimitError{Limit: limit, Max: max}
	}
}

// push opens a collection, with its first entry.
func (c *shapeCheck) push(stack *[]level, l level) {
	*stack = append(*stack, l)
	c.depth()
	c.count()
}

// depth checks the depth of the collections open.
func (c *shapeCheck) depth() {
	if len(c.block)+len(c.flow)+c.implicit+c.chain > MaxDepth {
		c.fail("depth", MaxDepth)
	}
}

// bare notes a "- " (seq), or a ":" or "? ", in a flow collection:
// each "- " is a sequence in the entry, a pair in a sequence's entry is a
// mapping, and so is a second pair in a mapping's entry ({a: b: c}).
func (c *shapeCheck) bare(seq bool) {
	l := &c.flow[len(c.flow)-1]
	if !seq {
		l.keys++
	}
	if seq || l.seq || l.keys > 1 {
		l.implicit++
		c.implicit++
		c.depth()
	}
}

// endEntry notes the end of a flow collection's entry.
func (c *shapeCheck) endEntry(l *level) {
	c.implicit -= l.implicit
	l.implicit, l.keys = 0, 0
}

// sibling counts one more entry in the collection l.
func (c *shapeCheck) sibling(l *level) {
	l.n++
	if l.n > MaxWidth {
		c.fail("width", MaxWidth)
	}
	c.count()
}

func (c *shapeCheck) count() {
	c.entries++
	if c.entries > MaxEntries {
		c.fail("entries", MaxEntries)
	}
}

func (c *shapeCheck) open(typ token.Type) {
	c.push(&c.flow, level{seq: typ == token.SequenceStartType, n: 1})
}

// close closes the innermost flow collection if typ closes it; a bracket
// that does not match leaves it open, which counts more, not less.
func (c *shapeCheck) close(typ token.Type) {
	if n := len(c.flow); n > 0 && c.flow[n-1].seq == (typ == token.SequenceEndType) {
		c.endEntry(&c.flow[n-1])
		c.flow = c.flow[:n-1]
	}
}

// next counts the entry after a comma in a flow collection.
func (c *shapeCheck) next() {
	if n := len(c.flow); n > 0 {
		c.endEntry(&c.flow[n-1])
		c.sibling(&c.flow[n-1])
	}
}

// entry counts a block entry, an item (seq) or a key, at column col; nest
// makes it open a collection inside the innermost one, whatever its
// column.
func (c *shapeCheck) entry(col int, seq, nest bool) {
	for {
		n := len(c.block)
		switch {
		case nest:
			// Nested, or a sibling after all: the count of the column
			// goes on, so that neither the depth nor the width is
			// undercounted.
			l := level{col: col, seq: seq, n: 1}
			if n > 0 && c.block[n-1].col == col {
				l.n = c.block[n-1].n + 1
				if l.n > MaxWidth {
					c.fail("width", MaxWidth)
				}
			}
			c.push(&c.block, l)
		case n > 0 && c.block[n-1].col > col:
			c.block = c.block[:n-1]
			continue
		case n > 0 && c.block[n-1].col == col && c.block[n-1].seq == seq:
			c.sibling(&c.block[n-1])
		case n > 0 && c.block[n-1].col == col && c.block[n-1].seq:
			// A key at the column of a sequence in a mapping (key: then
			// - item): the sequence has ended.
			c.block = c.block[:n-1]
			continue
		default:
			// Deeper, or a sequence at its parent key's column.
			c.push(&c.block, level{col: col, seq: seq, n: 1})
		}
		return
	}
}
