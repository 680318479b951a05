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
        app.read(|store| -> Result<_, StoreError> {
            let counts = [RecordKind::Source, RecordKind::Person, RecordKind::Act]
                .map(|kind| store.count(kind));
            let counts: Vec<u64> = counts.into_iter().collect::<Result<_, _>>()?;
            let recent = if role.reads_records() {
                store.recent(10)?
            } else {
                Vec::new()
            };
            let table = tabulate(store, "act-type", None, None, role).ok();
            Ok((counts, store.head()?.0, recent, table))
        })
    })
    .await;
    let (counts, journal, recent, table) = match loaded {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
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
            (table.chart())
        }
        @if !recent.is_empty() {
            h2 { (lang.t("Recent changes", "최근 변경")) }
            table {
                tr { th { "#" } th { (lang.t("When (local time)", "시각 (현지 시각)")) } th { (lang.t("Who", "작성자")) } th { (lang.t("Change", "변경")) } }
                @for row in &recent {
                    tr {
                        td.n { (row.entry.seq) }
                        td { (readable::local_time(&row.entry.time)) }
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
