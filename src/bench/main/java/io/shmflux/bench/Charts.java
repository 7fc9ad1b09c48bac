package io.shmflux.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;

/**
 * The pictures, by jfreechart: every latency scenario's percentile distribution on one chart, plotted
 * the way HdrHistogram's plotter does (x is {@code 1 / (1 - percentile)} on a log axis, labelled as
 * percentiles), and a bar chart of the burst rates.
 */
final class Charts {

    private Charts() {
    }

    static void write(Results results, Path dir) throws IOException {
        percentiles(results, dir.resolve("latency-percentiles.png"));
        bursts(results, dir.resolve("burst-events-per-second.png"));
    }

    private static void percentiles(Results results, Path file) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Results.Scenario s : results.of(Results.Kind.LATENCY)) {
            Histogram h = s.merged;
            if (h == null || h.getTotalCount() == 0) {
                continue;
            }
            XYSeries series = new XYSeries(s.title, false);
            for (HistogramIterationValue v : h.percentiles(5)) {
                double p = v.getPercentileLevelIteratedTo();
                if (p >= 100) {
                    break;
                }
                series.add(1 / (1 - p / 100), Math.max(0.01, v.getValueIteratedTo() / 1e3));
            }
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("One-way latency by percentile", "percentile",
                "latency (µs)", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogAxis x = new LogAxis("percentile");
        x.setTickUnit(new NumberTickUnit(1));
        x.setNumberFormatOverride(new PercentileFormat());
        x.setBase(10);
        plot.setDomainAxis(x);
        LogAxis y = new LogAxis("latency (µs)");
        y.setBase(10);
        y.setNumberFormatOverride(new DecimalFormat("0.##"));
        plot.setRangeAxis(y);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 1400, 900);
    }

    private static void bursts(Results results, Path file) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Results.Scenario s : results.of(Results.Kind.BURST)) {
            double rate = s.median("events_per_second");
            if (!Double.isNaN(rate)) {
                data.addValue(rate / 1e6, "delivered", s.title);
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Burst: million events/s delivered", null, "million events/s",
                data, PlotOrientation.HORIZONTAL, false, false, false);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 1200, 700);
    }

    /** Labels {@code 1 / (1 - p)} as the percentile p: 10 is 90%, 1000 is 99.9%. */
    private static final class PercentileFormat extends NumberFormat {
        @Override
        public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
            return to.append(new DecimalFormat("0.#####").format(100 - 100 / number)).append('%');
        }

        @Override
        public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
            return format((double) number, to, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            throw new UnsupportedOperationException();
        }
    }
}
