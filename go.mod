module github.com/firebreak/firebreak

go 1.26.8
