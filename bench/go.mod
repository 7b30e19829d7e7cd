module github.com/statecraft/statecraft/bench

go 1.26

require github.com/statecraft/statecraft v0.0.0

replace github.com/statecraft/statecraft => ../
