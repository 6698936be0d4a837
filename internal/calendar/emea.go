package calendar

import (
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
)

// The calendars below are for countries of Europe, the Middle East and
// Africa that rickar/cal has no package for, written on its building
// blocks as those in countries.go are. Each holds the days a law fixes on
// the Gregorian calendar or counts from Easter, Western or Orthodox
// (rickar/cal computes both); Hijri holidays are left out for the reason
// countries.go gives. Their tests name the law and the official list each
// was checked against.

// public is one of rickar/cal's common holidays (aa) as a public holiday.
func public(h *cal.Holiday) *cal.Holiday {
	return h.Clone(&cal.Holiday{Type: cal.ObservancePublic})
}

// orthodox is a holiday offset days from Orthodox Easter Sunday (Easter
// reckoned on the Julian calendar, given as a Gregorian date).
func orthodox(name string, offset int) *cal.Holiday {
	return &cal.Holiday{Name: name, Type: cal.ObservancePublic, Offset: offset, Julian: true, Func: cal.CalcEasterOffset}
}

// holidaysLI are Liechtenstein's public holidays, which the Labour Act
// makes equal to Sundays (Arbeitsgesetz, Art. 18 Abs. 2, as amended in
// 1986). The bank holidays (Berchtoldstag, Fasnachtsdienstag, Good Friday,
// 24 and 31 December) and the days some collective agreements add
// (Candlemas, St Joseph) are not public holidays.
var holidaysLI = []*cal.Holiday{
	public(aa.NewYear),
	public(aa.Epiphany),
	public(aa.EasterMonday),
	fixed("Tag der Arbeit", time.May, 1, 0, nil),
	public(aa.AscensionDay),
	public(aa.PentecostMonday),
	public(aa.CorpusChristi),
	fixed("Staatsfeiertag", time.August, 15, 0, nil),
	fixed("Mariä Geburt", time.September, 8, 0, nil),
	public(aa.AllSaintsDay),
	public(aa.ImmaculateConception),
	public(aa.ChristmasDay),
	fixed("Stephanstag", time.December, 26, 0, nil),
}
