package web

import (
	"fmt"
	"math"

	"github.com/lanscout/lanscout/inventory"
)

// dayChart is a column chart of devices discovered per day, laid out in
// Go like barChart: the template only places what is computed here.
type dayChart struct {
	Width, Height int
	Right         int // x where the plot ends; the rest is room for the last label
	Base          int // y of the axis
	Columns       []dayColumn
	Ticks         []dayTick // day labels under the axis
	Max           int       // the count the top gridline stands for
	MaxY          int
	PlotH         int // height of the plot area, for the columns' hover targets
	Total         int
	Label         string // the SVG's accessible name
	Days          []inventory.DayCount
}

type dayColumn struct {
	X, Y, W, H int
	Day        string
	Count      int
	Title      string
	Href       string
}

type dayTick struct {
	X     int
	Label string
}

const (
	dayChartW    = 560
	dayChartH    = 170
	dayAxisLeft  = 36
	dayAxisBelow = 24
	dayTop       = 12
	dayRight     = 24 // room for the last day's label, centred under its column
)

// newDayChart lays out days (oldest first). Every day is a column, so a
// day with none shows as a gap rather than disappearing.
func newDayChart(days []inventory.DayCount) dayChart {
	ch := dayChart{Width: dayChartW, Height: dayChartH, Right: dayChartW - dayRight, Base: dayChartH - dayAxisBelow, MaxY: dayTop, Days: days,
		PlotH: dayChartH - dayAxisBelow - dayTop}
	most := 0
	for _, d := range days {
		most = max(most, d.Count)
		ch.Total += d.Count
	}
	ch.Max = niceCeil(most)
	if len(days) == 0 {
		ch.Label = "Devices discovered per day: no data"
		return ch
	}
	slot := float64(ch.Right-dayAxisLeft) / float64(len(days))
	w := max(int(slot*0.7), 2)
	plot := float64(ch.Base - dayTop)
	for i, d := range days {
		h := 0
		if d.Count > 0 {
			h = max(int(math.Round(float64(d.Count)/float64(ch.Max)*plot)), 2)
		}
		x := dayAxisLeft + int(float64(i)*slot+(slot-float64(w))/2)
		day := d.Day.UTC().Format("2006-01-02")
		ch.Columns = append(ch.Columns, dayColumn{X: x, Y: ch.Base - h, W: w, H: h, Day: day, Count: d.Count,
			Title: fmt.Sprintf("%s: %d new device%s", d.Day.UTC().Format("Mon 2 Jan"), d.Count, plural(d.Count)),
			Href:  "/devices?sort=-first_seen"})
		// A label every week, and on the last day.
		if (len(days)-1-i)%7 == 0 {
			ch.Ticks = append(ch.Ticks, dayTick{X: x + w/2, Label: d.Day.UTC().Format("2 Jan")})
		}
	}
	first, last := days[0].Day.UTC(), days[len(days)-1].Day.UTC()
	ch.Label = fmt.Sprintf("Devices discovered per day from %s to %s: %d in all, at most %d in a day",
		first.Format("2 Jan"), last.Format("2 Jan 2006"), ch.Total, most)
	return ch
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the top
// gridline has a round number; at least 1.
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	p := 1
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}
