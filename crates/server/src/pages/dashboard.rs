//! The dashboard: counts, a chart and recent changes.

use super::*;

pub(super) async fn dashboard(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Viewer) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let loaded = blocking(move || {
        let data = app.data.clone();
        app.read(|store| -> Result<_, girok_service::ServiceError> {
            let counts = [RecordKind::Source, RecordKind::Person, RecordKind::Act]
                .map(|kind| store.count(kind));
            let counts: Vec<u64> = counts.into_iter().collect::<Result<_, _>>()?;
            let recent = if role.reads_records() {
                store.recent(10)?
            } else {
                Vec::new()
            };
            let table = tabulate(store, "act-type", None, None, role).ok();
            let replica = girok_service::replica_standing(store, &data)?;
            Ok((counts, store.head()?.0, recent, table, replica))
        })
    })
    .await;
    let (counts, journal, recent, table, replica) = match loaded {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        @if role.can_write() {
            p.actions {
                a.button href="/sources/new" id="record-testimony" { (lang.t("Record a testimony", "증언 기록")) }
                " " a href="/import" { (lang.t("Import a CSV file", "CSV 파일 가져오기")) }
            }
        }
        @if let Some(replica) = &replica {
            p.notice id="replica" role="status" { (replica_words(lang, replica)) }
        }
        div.cards {
            @if role.reads_records() {
                div.card { b { (counts[0]) } (lang.t("sources", "출처")) }
                div.card { b { (counts[1]) } (lang.t("person records", "인물 기록")) }
                div.card { b { (counts[2]) } (lang.t("acts", "행위")) }
                div.card { b { (journal) } (lang.t("journal entries", "기록 항목")) }
            }
            @if let Some(table) = &table {
                div.card { b { (table.table.total.shown().map_or("—".to_string(), |n| n.to_string())) } (lang.t("victims", "피해자")) }
            }
        }
        @if let Some(table) = table.as_ref().filter(|t| !t.table.row_keys.is_empty()) {
            h2 { (lang.t("Victims by act type", "행위 유형별 피해자")) }
            (table.chart(lang.t("Victims by act type", "행위 유형별 피해자")))
        }
        @if !recent.is_empty() {
            h2 { (lang.t("Recent changes", "최근 변경")) }
            table {
                tr { th { "#" } th { (lang.t("When (local time)", "시각 (현지 시각)")) } th { (lang.t("Who", "작성자")) } th { (lang.t("Change", "변경")) } }
                @for row in &recent {
                    tr {
                        td.n { (row.entry.seq) }
                        td { (readable::local_time(&row.entry.time, principal.time_zone())) }
                        td { (row.entry.actor) }
                        td {
                            (journal::describe(&row.entry.change, lang, role))
                            @if let Some(id) = row.entry.change.subject() {
                                " · " a href=(format!("/records/{id}/history")) { (id) }
                            }
                        }
                    }
                }
            }
        }
        @if principal.session.is_some() {
            p.hint { a href="/account/second-factor" { (lang.t("Two-step sign-in for your account", "내 계정의 2단계 로그인")) } }
        }
    };
    page(lang, &principal, lang.t("Dashboard", "대시보드"), body)
}

/// What a server reading a replica says of it: that nothing is written
/// here, and how far behind the primary it reads.
fn replica_words(lang: Lang, replica: &girok_service::ReplicaStanding) -> String {
    let behind = match replica.entries_behind {
        Some(0) => lang
            .t(
                "it has every journal entry of the primary",
                "주 데이터베이스의 모든 기록 항목이 있습니다",
            )
            .to_string(),
        Some(entries) => match lang {
            Lang::En => format!("it is {entries} journal entries behind the primary"),
            Lang::Ko => format!("주 데이터베이스보다 기록 항목 {entries}개 뒤처져 있습니다"),
        },
        None => lang
            .t(
                "the primary cannot be reached to compare",
                "비교할 주 데이터베이스에 연결할 수 없습니다",
            )
            .to_string(),
    };
    let replayed = replica.since_last_replayed.map(|seconds| match lang {
        Lang::En => format!("; the last change it replayed was committed {seconds:.0} s ago"),
        Lang::Ko => format!("; 마지막으로 반영한 변경은 {seconds:.0}초 전에 기록되었습니다"),
    });
    match lang {
        Lang::En => format!(
            "This server reads a read-only replica: nothing can be written here, and {behind}{}.",
            replayed.unwrap_or_default()
        ),
        Lang::Ko => format!(
            "이 서버는 읽기 전용 복제본을 읽습니다. 여기서는 아무것도 쓸 수 없으며, {behind}{}.",
            replayed.unwrap_or_default()
        ),
    }
}
