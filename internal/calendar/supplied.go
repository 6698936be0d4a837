package calendar

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Calendars are the holiday calendars the PublicHoliday condition and
// isPublicHoliday() read: the built-in ones, and those an operator
// supplied as iCalendar files (Load). A supplied calendar replaces the
// built-in one of its code: it is the government's or the calendar
// service's own list, carrying the days announced each year and the moves
// a rule cannot know, so it must win over what a rule computes, and a day
// it leaves out must not come back from the rule. The nil *Calendars is the
// built-in calendars alone. A Calendars is read-only once built, so safe
// for concurrent use.
type Calendars struct {
	supplied map[string]*ICS
}

// New returns the built-in calendars with supplied, keyed by code ("CL",
// "DE-BY"), in place of the built-in ones of the same code.
func New(supplied map[string]*ICS) *Calendars {
	c := &Calendars{supplied: map[string]*ICS{}}
	for code, ics := range supplied {
		c.supplied[strings.ToUpper(code)] = ics
	}
	return c
}

// codeRe is an ISO 3166-1 alpha-2 code, or an ISO 3166-2 subdivision code.
var codeRe = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)

// Load reads every CODE.ics file of dir (CL.ics, DE-BY.ics: the code the
// calendar is for, any case) and returns them with the built-in calendars.
// Hidden entries are skipped (a Kubernetes ConfigMap volume keeps its
// ..data links there); any other file, an unreadable one or one that does
// not parse is an error naming it, so a calendar never silently stays
// empty. Every bad file is reported at once.
func Load(dir string) (*Calendars, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read holiday calendars: %w", err)
	}
	supplied := map[string]*ICS{}
	from := map[string]string{}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		info, err := os.Stat(path) // follows a ConfigMap's links
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		if info.IsDir() {
			continue
		}
		ext := filepath.Ext(name)
		code := strings.ToUpper(strings.TrimSuffix(name, ext))
		if !strings.EqualFold(ext, ".ics") || !codeRe.MatchString(code) {
			errs = append(errs, fmt.Errorf("%s: name each file by the ISO 3166 code it is for, e.g. CL.ics or DE-BY.ics, and keep other files out of this directory", path))
			continue
		}
		if prev, ok := from[code]; ok {
			errs = append(errs, fmt.Errorf("%s: %s is already %s: keep one file per code", path, code, prev))
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		ics, err := ParseICS(path, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		supplied[code], from[code] = ics, path
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(supplied), nil
}

// IsPublicHoliday reports whether date (its calendar day, as read in its
// location) is a public holiday of country, or of subdivision when it is
// set ("DE-BY", or "BY" with country DE): from the supplied calendar of
// that code when there is one, else from the built-in one. An unknown code
// is an error naming the known ones.
func (c *Calendars) IsPublicHoliday(date time.Time, country, subdivision string) (bool, error) {
	code := strings.ToUpper(strings.TrimSpace(country))
	if code == "" {
		return false, fmt.Errorf("PublicHoliday needs a country: an ISO 3166-1 alpha-2 code such as FR")
	}
	if sub := strings.ToUpper(strings.TrimSpace(subdivision)); sub != "" {
		if !strings.Contains(sub, "-") {
			sub = code + "-" + sub
		}
		code = sub
	}
	if c != nil {
		if ics, ok := c.supplied[code]; ok {
			return ics.holds(date), nil
		}
	}
	if _, ok := calendars[code]; !ok {
		return false, fmt.Errorf("no public holiday calendar for %s; known: %s (more can be supplied as iCalendar files in osprey.holidays.directory)", code, strings.Join(c.Codes(), ", "))
	}
	return IsPublicHoliday(date, code, "")
}

// Codes lists the codes there is a holiday calendar for, built-in or
// supplied, sorted.
func (c *Calendars) Codes() []string {
	codes := HolidayCalendars()
	for _, code := range c.Supplied() {
		if _, ok := calendars[code]; !ok {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	return codes
}

// Supplied lists the codes of the supplied calendars, sorted.
func (c *Calendars) Supplied() []string {
	if c == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(c.supplied))
}
