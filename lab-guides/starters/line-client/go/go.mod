module echolab/my-echo-client

go 1.19
