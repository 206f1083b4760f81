module append

go 1.21
