package ordered

import (
	"bytes"
	"encoding/json"
	"testing"
)

// benchDoc is the shape of a task run's outputs: a few nested objects,
// strings, numbers and a list.
var benchDoc = []byte(`{"values":{"name":"report","count":42,"ratio":0.75,"tags":["a","b","c"],
"owner":{"team":"data","email":"x@example.com","active":true},"rows":[{"id":1,"v":"x"},{"id":2,"v":"y"},{"id":3,"v":"z"}]},
"uri":"kestra:///ns/flow/executions/1/tasks/t/1/out.json","code":0,"vars":{"b":1,"a":2}}`)

// BenchmarkDecode compares Decode with what it replaces: encoding/json into
// any with UseNumber, then the json.Number walk.
func BenchmarkDecode(b *testing.B) {
	b.Run("ordered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(benchDoc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(benchDoc))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	ov, _ := Decode(benchDoc)
	pv := Plain(ov)
	b.Run("ordered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ov); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(pv); err != nil {
				b.Fatal(err)
			}
		}
	})
}
