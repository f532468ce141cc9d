//! The one table the harness prints, and its JSON form.
//!
//! Each row is one figure of one scenario: migspec's value, the baseline's (the
//! Terraform-style driver, where there is one), the floor (what the calls allow at the rate
//! limit plus the phases a job must sit through), and the ratio: migspec ÷ baseline when
//! there is a baseline, otherwise migspec ÷ floor.

use std::path::Path;
use std::time::Duration;

/// One figure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) scenario: &'static str,
    pub(crate) figure: String,
    pub(crate) migspec: Option<f64>,
    pub(crate) baseline: Option<f64>,
    pub(crate) floor: Option<f64>,
    /// Why a value is missing, or what a scenario that did not run said.
    pub(crate) note: String,
}

impl Row {
    /// A figure of migspec alone.
    pub(crate) fn new(scenario: &'static str, figure: impl Into<String>, migspec: f64) -> Self {
        Self {
            scenario,
            figure: figure.into(),
            migspec: Some(migspec),
            baseline: None,
            floor: None,
            note: String::new(),
        }
    }

    /// A row without figures: a skipped or failed scenario.
    pub(crate) fn note(scenario: &'static str, note: impl Into<String>) -> Self {
        Self {
            scenario,
            figure: String::new(),
            migspec: None,
            baseline: None,
            floor: None,
            note: note.into(),
        }
    }

    /// A figure of the baseline alone (an action migspec does not call).
    pub(crate) fn baseline_only(
        scenario: &'static str,
        figure: impl Into<String>,
        baseline: f64,
    ) -> Self {
        Self {
            migspec: None,
            baseline: Some(baseline),
            ..Self::new(scenario, figure, 0.0)
        }
    }

    pub(crate) fn baseline(mut self, value: f64) -> Self {
        self.baseline = Some(value);
        self
    }

    pub(crate) fn floor(mut self, value: f64) -> Self {
        self.floor = Some(value);
        self
    }

    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// migspec ÷ baseline, else migspec ÷ floor; none when a side is missing or zero.
    pub(crate) fn ratio(&self) -> Option<f64> {
        let migspec = self.migspec?;
        let against = self.baseline.or(self.floor)?;
        (against > 0.0).then(|| migspec / against)
    }

    /// The row as the progress output prints it.
    pub(crate) fn line(&self) -> String {
        if self.figure.is_empty() {
            return self.note.clone();
        }
        let mut line = format!("{}: {}", self.figure, show(self.migspec));
        if self.baseline.is_some() {
            line.push_str(&format!(", baseline {}", show(self.baseline)));
        }
        if self.floor.is_some() {
            line.push_str(&format!(", floor {}", show(self.floor)));
        }
        if let Some(ratio) = self.ratio() {
            line.push_str(&format!(", ratio {ratio:.2}"));
        }
        if !self.note.is_empty() {
            line.push_str(&format!(" ({})", self.note));
        }
        line
    }
}

/// A number as the table shows it: integers as integers, else three significant digits or so.
pub(crate) fn show(value: Option<f64>) -> String {
    match value {
        None => "-".to_owned(),
        Some(value) if value.fract() == 0.0 && value.abs() < 1e15 => format!("{value:.0}"),
        Some(value) if value.abs() >= 100.0 => format!("{value:.0}"),
        Some(value) if value.abs() >= 10.0 => format!("{value:.1}"),
        Some(value) if value.abs() >= 0.1 => format!("{value:.2}"),
        Some(value) => format!("{value:.4}"),
    }
}

/// The table: `figure | migspec | baseline | floor | ratio`, then the notes.
pub(crate) fn table(rows: &[Row]) -> String {
    let header = ["figure", "migspec", "baseline", "floor", "ratio"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .filter(|row| !row.figure.is_empty())
        .map(|row| {
            [
                format!("{}: {}", row.scenario, row.figure),
                show(row.migspec),
                show(row.baseline),
                show(row.floor),
                row.ratio()
                    .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}")),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 5]| {
        let mut text = format!("{:<w$}", cells[0], w = widths[0]);
        for (cell, width) in cells.iter().zip(widths).skip(1) {
            text.push_str(&format!("  {cell:>width$}"));
        }
        text.trim_end().to_owned()
    };
    let mut out = vec![
        line(&header.map(str::to_owned)),
        line(&widths.map(|width| "-".repeat(width))),
    ];
    out.extend(cells.iter().map(line));
    let notes: Vec<String> = rows
        .iter()
        .filter(|row| !row.note.is_empty())
        .map(|row| {
            if row.figure.is_empty() {
                format!("  {}: {}", row.scenario, row.note)
            } else {
                format!("  {}: {}: {}", row.scenario, row.figure, row.note)
            }
        })
        .collect();
    if !notes.is_empty() {
        out.push("notes:".to_owned());
        out.extend(notes);
    }
    out.push(
        "ratio = migspec ÷ baseline where there is a baseline, else migspec ÷ floor".to_owned(),
    );
    out.join("\n")
}

/// The rows as JSON (numbers unrounded).
pub(crate) fn json(rows: &[Row], quick: bool, total: Duration) -> serde_json::Value {
    serde_json::json!({
        "quick": quick,
        "rate_limit_per_second": super::RATE_LIMIT,
        "phase_seconds": super::PHASE.as_secs_f64(),
        "total_seconds": total.as_secs_f64(),
        "rows": rows.iter().map(|row| serde_json::json!({
            "scenario": row.scenario,
            "figure": row.figure,
            "migspec": row.migspec,
            "baseline": row.baseline,
            "floor": row.floor,
            "ratio": row.ratio(),
            "note": row.note,
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn write_json(
    path: &Path,
    rows: &[Row],
    quick: bool,
    total: Duration,
) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&json(rows, quick, total))
        .map_err(|error| format!("the report does not serialize: {error}"))?;
    std::fs::write(path, text + "\n").map_err(|error| format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_is_against_the_baseline_else_the_floor() {
        let row = Row::new("s", "wall s", 170.0).baseline(121.0).floor(12.0);
        assert!((row.ratio().expect("a ratio") - 170.0 / 121.0).abs() < 1e-9);
        let row = Row::new("s", "wall s", 30.0).floor(12.0);
        assert!((row.ratio().expect("a ratio") - 2.5).abs() < 1e-9);
        assert_eq!(Row::new("s", "calls", 3.0).ratio(), None);
        assert_eq!(Row::new("s", "calls", 3.0).baseline(0.0).ratio(), None);
        assert_eq!(Row::baseline_only("s", "calls", 3.0).ratio(), None);
    }

    #[test]
    fn the_table_aligns_columns_and_lists_notes() {
        let rows = vec![
            Row::new("apply-dts", "wall s", 170.25)
                .baseline(121.0)
                .floor(12.5),
            Row::new("apply-dts", "calls", 2260.0).baseline(1400.0),
            Row::note("chaos", "skipped: no tests/tests/chaos.rs"),
        ];
        let table = table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "figure             migspec  baseline  floor  ratio"
        );
        assert_eq!(
            lines[2],
            "apply-dts: wall s      170       121   12.5   1.41"
        );
        assert_eq!(
            lines[3],
            "apply-dts: calls      2260      1400      -   1.61"
        );
        assert_eq!(lines[5], "  chaos: skipped: no tests/tests/chaos.rs");
        let value = json(&rows, true, Duration::from_secs(3));
        assert_eq!(value["rows"][0]["migspec"], 170.25);
        assert_eq!(value["rows"][2]["migspec"], serde_json::Value::Null);
        assert_eq!(value["quick"], true);
    }

    #[test]
    fn numbers_show_with_sensible_precision() {
        assert_eq!(show(Some(200.0)), "200");
        assert_eq!(show(Some(11.333)), "11.3");
        assert_eq!(show(Some(1.2345)), "1.23");
        assert_eq!(show(Some(0.0456)), "0.0456");
        assert_eq!(show(None), "-");
    }
}
