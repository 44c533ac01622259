module github.com/opensmh/opensmh/console

go 1.26.0
