package engine

import "fmt"

// labelOf prints a value the definition does not know, for errors.
func labelOf(v any) string { return fmt.Sprint(v) }
