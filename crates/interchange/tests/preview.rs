//! A preview reads a whole CSV file through the import path and writes
//! nothing: every problem of every row, with its line and column, and what
//! the good rows would create.

use girok_interchange::{CsvProblem, Wrong, import_as, preview};
use girok_model::RecordKind;
use girok_store::{Database, Store, StoreError};

const GOOD: &str = "source_id,source_title,consent,victim_id,victim_names,sex,act_type,act_date,act_place\n\
s1,Interview with a mother,internal,p1,김은주;Kim Eun-joo,여성,arrest,2020년 5월,Hoeryŏng\n\
s1,,,p2,Pak Tong Gu,male,enforced-disappearance,c. 2019,Musan\n";

fn store() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Database::create(&dir.path().join("girok.sqlite")).expect("store");
    (dir, store)
}

fn file(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("staged-under-its-hash");
    std::fs::write(&path, text).expect("file");
    path
}

fn located(problems: &[CsvProblem]) -> Vec<(u64, Option<&str>)> {
    problems
        .iter()
        .map(|p| (p.line, p.column.as_deref()))
        .collect()
}

#[test]
fn a_preview_lists_every_problem_of_every_row_and_writes_nothing() {
    let (dir, mut store) = store();
    let path = file(
        &dir,
        "source_id,source_title,consent,victim_id,sex,act_type,act_date\n\
         s1,Interview,internal,p1,female,arrest,2020\n\
         s1,,,,female,arrest,2020\n\
         s1,,,p2,maybe,publc execution,2020\n\
         s1,,,p3\n\
         s1,,,p4,male,arrest,the 32nd of Neverary\n",
    );
    let found = preview(&mut store, "tester", &path, "rows.csv").expect("preview");
    assert_eq!(found.rows, 5);
    assert_eq!(
        located(&found.problems),
        [
            (3, Some("victim_id")),
            (4, Some("sex")),
            (4, Some("act_type")),
            (5, None),
            (6, Some("act_date")),
        ],
        "{:#?}",
        found.problems
    );
    assert!(matches!(found.problems[3].wrong, Wrong::NotCsv(_)));
    assert!(
        found.problems[2]
            .wrong
            .to_string()
            .contains("did you mean public-execution"),
        "{}",
        found.problems[2].wrong
    );
    assert_eq!(store.head().expect("head").0, 0, "nothing was written");
}

#[test]
fn a_header_that_cannot_be_read_is_every_problem_there_is() {
    let (dir, mut store) = store();
    let path = file(&dir, "source_id,act_typ,source_id\ns1,arrest,s1\n");
    let found = preview(&mut store, "tester", &path, "cols.csv").expect("preview");
    assert_eq!(
        located(&found.problems),
        [
            (1, Some("act_typ")),
            (1, Some("source_id")),
            (1, None),
            (1, None)
        ]
    );
    assert_eq!(
        found.problems[2].wrong,
        Wrong::MissingColumn(girok_intake::Field::VictimId)
    );
    assert_eq!(found.problems[0].wrong, Wrong::UnknownColumn);
    assert_eq!(found.problems[1].wrong, Wrong::RepeatedColumn);
}

#[test]
fn a_good_file_previews_what_the_import_then_creates_and_is_refused_a_second_time() {
    let (dir, mut store) = store();
    let path = file(&dir, GOOD);
    let found = preview(&mut store, "tester", &path, "good.csv").expect("preview");
    assert!(found.problems.is_empty(), "{:#?}", found.problems);
    assert_eq!(found.rows, 2);
    assert_eq!(
        found.created.get(&RecordKind::Person),
        Some(&2),
        "{found:?}"
    );
    assert_eq!(found.created.get(&RecordKind::Act), Some(&2));
    assert_eq!(store.head().expect("head").0, 0);

    let (summary, _) = store
        .write("tester", |sink| {
            import_as(&path, "good.csv", sink, &mut |_| {})
        })
        .expect("import");
    assert_eq!(summary.records, found.created.values().sum::<u64>());
    let import = store
        .recent(100)
        .expect("recent")
        .pop()
        .expect("first entry");
    assert!(
        matches!(&import.entry.change, girok_model::Change::Import { file_name, .. } if file_name == "good.csv"),
        "the name, not the staged path, is journaled: {:?}",
        import.entry.change
    );

    let again = preview(&mut store, "tester", &path, "good.csv");
    assert!(
        matches!(
            again,
            Err(girok_interchange::ImportError::Store(
                StoreError::DuplicateImport(_)
            ))
        ),
        "{again:?}"
    );
}

/// A workbook whose first sheet holds `rows` (the first is the header);
/// a cell `date:YYYY-MM-DD` is a date cell, `number:N` a number cell.
fn workbook(dir: &tempfile::TempDir, rows: &[&[&str]]) -> std::path::PathBuf {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (row, cells) in rows.iter().enumerate() {
        for (column, cell) in cells.iter().enumerate() {
            let (row, column) = (row as u32, column as u16);
            if let Some(date) = cell.strip_prefix("date:") {
                let parts: Vec<u16> = date.split('-').map(|p| p.parse().expect("date")).collect();
                let date = rust_xlsxwriter::ExcelDateTime::from_ymd(
                    parts[0],
                    parts[1] as u8,
                    parts[2] as u8,
                )
                .expect("date");
                sheet
                    .write_datetime_with_format(row, column, &date, &date_format)
                    .expect("write");
            } else if let Some(number) = cell.strip_prefix("number:") {
                sheet
                    .write_number(row, column, number.parse::<f64>().expect("number"))
                    .expect("write");
            } else if !cell.is_empty() {
                sheet.write_string(row, column, *cell).expect("write");
            }
        }
    }
    let path = dir.path().join("staged-workbook");
    book.save(&path).expect("save");
    path
}

#[test]
fn a_spreadsheet_imports_as_its_csv_does_with_problems_at_the_sheets_rows() {
    let (dir, mut store) = store();
    let header: &[&str] = &[
        "출처ID",
        "출처제목",
        "동의범위",
        "피해자ID",
        "피해자이름",
        "성별",
        "행위유형",
        "행위일시",
        "행위장소",
    ];
    // A date cell, a year typed as a number, an empty row the sheet's formatting left.
    let good = workbook(
        &dir,
        &[
            header,
            &[
                "s1",
                "Interview with a mother",
                "internal",
                "p1",
                "김은주;Kim Eun-joo",
                "여성",
                "arrest",
                "date:2020-05-01",
                "Hoeryŏng",
            ],
            &[],
            &[
                "s1",
                "",
                "",
                "p2",
                "Pak Tong Gu",
                "male",
                "enforced-disappearance",
                "number:2019",
                "Musan",
            ],
        ],
    );
    let found = preview(&mut store, "tester", &good, "rows.xlsx").expect("preview");
    assert!(found.problems.is_empty(), "{:#?}", found.problems);
    assert_eq!(found.rows, 2);
    let csv = preview(&mut store, "tester", &file(&dir, GOOD), "rows.csv").expect("preview");
    assert_eq!(
        found.created, csv.created,
        "the same records as the CSV layout"
    );
    assert_eq!(store.head().expect("head").0, 0, "a preview writes nothing");

    store
        .write("tester", |sink| {
            import_as(&good, "rows.xlsx", sink, &mut |_| {})
        })
        .expect("import");
    let mut out = Vec::new();
    let mut writer = girok_interchange::writer(girok_interchange::Format::Csv, &mut out, false);
    store
        .for_each_record(&mut |record| {
            writer.write(&record).map_err(|e| StoreError::Io {
                context: "export".into(),
                source: e,
            })
        })
        .expect("export");
    writer.finish().expect("finish");
    drop(writer);
    let exported = String::from_utf8(out).expect("text");
    assert!(
        exported.contains("2020-05-01") && exported.contains(",2019,"),
        "{exported}"
    );
    assert!(exported.contains("김은주"), "{exported}");

    // Problems name the sheet's row and the column as the sheet heads it.
    let bad = workbook(
        &dir,
        &[
            header,
            &[
                "s2",
                "Interview",
                "internal",
                "p9",
                "Ri Chol",
                "male",
                "arrest",
                "2020",
                "Musan",
            ],
            &[
                "s2", "", "", "", "Kim Ok", "female", "arrest", "2018", "Hyesan",
            ],
            &[],
            &[
                "s2",
                "",
                "",
                "p10",
                "Kim Ok",
                "female",
                "publc execution",
                "2018",
                "Hyesan",
            ],
        ],
    );
    let head = store.head().expect("head").0;
    let found = preview(&mut store, "tester", &bad, "bad.xlsx").expect("preview");
    assert_eq!(
        located(&found.problems),
        [(3, Some("피해자ID")), (5, Some("행위유형"))],
        "{:#?}",
        found.problems
    );
    assert_eq!(store.head().expect("head").0, head);
    let refused = store.write("tester", |sink| {
        import_as(&bad, "bad.xlsx", sink, &mut |_| {})
    });
    assert!(refused.is_err());
    assert_eq!(store.head().expect("head").0, head, "all or nothing");

    // A file that is not what its name says is refused by name, and writes nothing.
    let not_a_workbook = file(&dir, GOOD);
    let refused = store
        .write("tester", |sink| {
            import_as(&not_a_workbook, "rows.xlsx", sink, &mut |_| {})
        })
        .expect_err("refused");
    assert!(
        refused.to_string().contains("rows.xlsx")
            && refused.to_string().contains("is not a spreadsheet"),
        "{refused}"
    );
    assert_eq!(store.head().expect("head").0, head);
}
