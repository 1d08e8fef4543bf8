module echolab/my-echo-server

go 1.19
