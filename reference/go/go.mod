module echolab/reference/go

go 1.19
