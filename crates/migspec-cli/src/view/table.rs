//! Aligned tables with a header row (`status`, `state list`).
//!
//! Written here rather than with a table crate: plain left-aligned columns separated by two
//! spaces, like `kubectl get`, need a width per column and nothing else (no borders, no
//! wrapping), and the output must stay byte-stable for scripts that cut columns.

/// Renders rows under a header: every column as wide as its widest cell (in characters),
/// the last one unpadded, so that no line ends in spaces.
pub(crate) fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header: Vec<String> = header.iter().map(|cell| (*cell).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (index, cell) in row.iter().enumerate().take(columns) {
            if index + 1 == columns {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                let pad = widths[index] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = vec![
            vec![
                "orders-to-cdb".to_owned(),
                "dts-1".to_owned(),
                "running".to_owned(),
            ],
            vec![
                "a".to_owned(),
                "dts-12345678".to_owned(),
                "paused…".to_owned(),
            ],
        ];
        assert_eq!(
            render(&["ADDRESS", "ID", "STATUS"], &rows),
            "ADDRESS        ID            STATUS\n\
             orders-to-cdb  dts-1         running\n\
             a              dts-12345678  paused…\n"
        );
    }

    #[test]
    fn an_empty_last_cell_leaves_no_trailing_spaces() {
        let rows = vec![vec!["a".to_owned(), String::new()]];
        assert_eq!(render(&["ADDRESS", "FILE"], &rows), "ADDRESS  FILE\na\n");
    }
}
