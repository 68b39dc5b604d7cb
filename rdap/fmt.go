package rdap

import "fmt"

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func itoa(i int) string { return fmt.Sprint(i) }
