module github.com/opensmh/opensmh/services/object

go 1.26.0

require github.com/opensmh/opensmh/gen v0.0.0

replace github.com/opensmh/opensmh/gen => ../../gen

require github.com/opensmh/opensmh/pkg v0.0.0

replace github.com/opensmh/opensmh/pkg => ../../pkg
