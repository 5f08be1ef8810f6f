//! The web app's texts in German and English, and how a request's language is chosen: an
//! explicit choice (cookie `nachbar_lang`, set by the language switch) beats `Accept-Language`,
//! which beats German.
//!
//! Every text is declared once with both languages, so a missing translation does not compile.

use axum::http::HeaderMap;
pub use nachbar_core::label::Lang;

use super::cookies;

/// The cookie that remembers the language switch.
pub const LANG_COOKIE: &str = "nachbar_lang";

/// Declares a struct of texts (one field per text, each declared with its German and English
/// wording) and its German and English constants.
macro_rules! texts {
    ($(#[$smeta:meta])* $name:ident, $de_name:ident, $en_name:ident {
        $( $(#[$meta:meta])* $key:ident: $de:literal, $en:literal; )+
    }) => {
        $(#[$smeta])*
        #[derive(Debug, serde::Serialize)]
        pub struct $name {
            $( $(#[$meta])* #[doc = $en] pub $key: &'static str, )+
        }

        /// German.
        pub const $de_name: $name = $name { $( $key: $de, )+ };
        /// English.
        pub const $en_name: $name = $name { $( $key: $en, )+ };

        impl $name {
            /// The texts of `lang`.
            pub fn of(lang: $crate::web::i18n::Lang) -> &'static $name {
                match lang {
                    $crate::web::i18n::Lang::De => &$de_name,
                    $crate::web::i18n::Lang::En => &$en_name,
                }
            }
        }
    };
}
pub(crate) use texts;

texts! {
    /// Every user-facing text of the web app's frame and the coordinator's pages in one
    /// language.
    Texts, DE, EN {
    lang_code: "de", "en";
    other_lang_code: "en", "de";
    other_lang_name: "English", "Deutsch";
    switch_lang: "Switch to English", "Auf Deutsch umschalten";
    product: "nachbar", "nachbar";
    skip_to_content: "Zum Inhalt springen", "Skip to content";
    main_nav: "Hauptnavigation", "Main navigation";
    signed_in_as: "Angemeldet als", "Signed in as";
    sign_in: "Anmelden", "Sign in";
    sign_out: "Abmelden", "Sign out";
    sign_in_title: "Bei nachbar anmelden", "Sign in to nachbar";
    sign_in_intro: "Melden Sie sich mit dem Anmeldenamen und Passwort an, die Sie bei der Einladung gewählt haben.", "Sign in with the login name and password you chose when you were invited.";
    login_name: "Anmeldename", "Login name";
    password: "Passwort", "Password";
    password_repeat: "Passwort wiederholen", "Repeat password";
    sign_in_failed: "Anmeldename oder Passwort stimmen nicht.", "The login name or password is not right.";
    too_many_attempts: "Zu viele Fehlversuche. Bitte warten Sie einen Moment und versuchen Sie es dann erneut.", "Too many failed attempts. Please wait a moment, then try again.";
    enroll_title: "Einladung annehmen", "Accept your invitation";
    enroll_intro: "Wählen Sie einen Anmeldenamen und ein Passwort (mindestens 10 Zeichen). Der Einladungslink gilt nur einmal.", "Choose a login name and a password (at least 10 characters). The invitation link works once only.";
    enroll_for: "Einladung für", "Invitation for";
    enroll_invalid: "Dieser Einladungslink ist ungültig, abgelaufen oder wurde schon benutzt. Bitten Sie Ihre Koordination um einen neuen.", "This invitation link is invalid, has expired or was already used. Ask your coordinator for a new one.";
    enroll_done: "Konto eingerichtet. Sie können sich jetzt anmelden.", "Account ready. You can sign in now.";
    enroll_submit: "Konto einrichten", "Set up account";
    password_too_short: "Das Passwort braucht mindestens 10 Zeichen.", "The password needs at least 10 characters.";
    password_too_long: "Das Passwort darf höchstens 200 Zeichen haben.", "The password may have at most 200 characters.";
    passwords_differ: "Die beiden Passwörter stimmen nicht überein.", "The two passwords do not match.";
    login_invalid: "Der Anmeldename braucht 3 bis 64 Zeichen: Buchstaben, Ziffern, Punkt, Binde- oder Unterstrich.", "The login name needs 3 to 64 characters: letters, digits, dot, hyphen or underscore.";
    login_taken: "Dieser Anmeldename ist schon vergeben.", "This login name is taken.";
    not_found_title: "Nicht gefunden", "Not found";
    not_found_text: "Diese Seite gibt es nicht, oder Sie haben keinen Zugriff darauf.", "This page does not exist, or you have no access to it.";
    bad_request_title: "Ungültige Anfrage", "Bad request";
    bad_request_text: "Diese Adresse enthält eine Angabe, die es nicht gibt (zum Beispiel ein unbekanntes Trennzeichen).", "This address holds an option that does not exist (an unknown separator, say).";
    forbidden_title: "Abgelehnt", "Refused";
    forbidden_text: "Die Anfrage kam nicht von dieser Seite und wurde abgelehnt.", "The request did not come from this site and was refused.";
    error_title: "Fehler", "Error";
    error_text: "Das hat nicht geklappt. Bitte versuchen Sie es gleich noch einmal.", "That did not work. Please try again in a moment.";
    back_home: "Zur Startseite", "Go to the start page";
    home: "Start", "Home";
    neighbourhood: "Nachbarschaft", "Neighbourhood";
    overview: "Überblick", "Overview";
    businesses_and_people: "Betriebe und Personen", "Businesses and people";
    workshops: "Workshops", "Workshops";
    joint_offerings: "Gemeinsame Angebote", "Joint offerings";
    phase: "Phase", "Phase";
    heat_map: "Themenkarte", "Topic heat map";
    heat_map_caption: "Was die Betriebe je Themenfeld teilen", "What the businesses share per topic area";
    heat_map_empty: "Noch hat kein Betrieb einen Themenstand geteilt.", "No business has shared a topic state yet.";
    heat_map_csv: "Themenkarte als CSV herunterladen", "Download the heat map as CSV";
    archive_zip: "Archiv der Nachbarschaft (ZIP)", "Neighbourhood archive (ZIP)";
    calendar: "Kalender", "Calendar";
    calendar_title: "Termine im eigenen Kalender", "Dates in your own calendar";
    calendar_intro: "Abonnieren Sie Ihre Treffen und Workshops in Ihrer Kalender-App (Outlook, Apple Kalender, Google Kalender, Thunderbird). Die App holt Änderungen selbst ab.", "Subscribe to your meetings and workshops in your calendar app (Outlook, Apple Calendar, Google Calendar, Thunderbird). The app fetches changes by itself.";
    calendar_none: "Sie haben noch keinen Kalender-Link.", "You have no calendar link yet.";
    calendar_create: "Kalender-Link erstellen", "Create a calendar link";
    calendar_replace: "Neuen Link erstellen (der alte hört sofort auf zu funktionieren)", "Create a new link (the old one stops working at once)";
    calendar_revoke: "Link widerrufen", "Revoke the link";
    calendar_revoked: "Der Link ist widerrufen; Kalender, die ihn abonniert haben, bekommen keine Termine mehr.", "The link is revoked; calendars subscribed to it get no more dates.";
    calendar_created: "Ihr Kalender-Link ist erstellt. Er wird nur jetzt angezeigt: kopieren Sie ihn in Ihre Kalender-App.", "Your calendar link is created. It is shown only now: copy it into your calendar app.";
    calendar_secret_note: "Wer diesen Link kennt, sieht Ihre Termine. Geben Sie ihn nicht weiter; im Zweifel erstellen Sie einen neuen.", "Anyone who knows this link sees your dates. Do not pass it on; if in doubt, create a new one.";
    calendar_active_since: "Ihr Kalender-Link ist aktiv seit", "Your calendar link is active since";
    calendar_lost_link: "Den Link selbst zeigen wir nur beim Erstellen. Haben Sie ihn nicht mehr, erstellen Sie einen neuen.", "We show the link itself only when it is created. If you no longer have it, create a new one.";
    calendar_open: "In der Kalender-App öffnen", "Open in the calendar app";
    calendar_feed_name: "nachbar: Treffen und Workshops", "nachbar: meetings and workshops";
    pdf_report: "Bericht als PDF", "Report as PDF";
    pdf_language: "Sprache des Berichts", "Report language";
    pdf_download: "PDF herunterladen", "Download PDF";
    pdf_history: "mit dem Verlauf jeder Maßnahme", "with each measure's history";
    pdf_findings: "Diese Befunde aufnehmen", "Include these findings";
    pdf_no_findings: "Noch keine Befunde.", "No findings yet.";
    summary_pdf: "Bericht für Kammer und Förderer", "Report for the chamber and funders";
    pdf_too_large_title: "Bericht zu umfangreich", "Report too long";
    pdf_too_large_text: "Dieser Bericht wäre länger, als ein PDF gesetzt wird. Die Seite zeigt alles; drucken Sie sie, oder kürzen Sie lange Texte.", "This report would be longer than a PDF is typeset for. The page shows everything; print it, or shorten long texts.";
    summary_pdf_hint: "Ohne Vertrauliches: keine Bestandsaufnahmen, keine Maßnahmenpläne, keine Themenkarte je Betrieb.", "Nothing confidential: no assessments, no action plans, no per-business heat map.";
    business: "Betrieb", "Business";
    not_shared: "nicht geteilt", "not shared";
    legend: "Legende", "Legend";
    aggregates: "Zusammenfassung je Themenfeld", "Summary per topic area";
    aggregates_caption: "Anzahl der Betriebe je Stand", "Number of businesses per state";
    area: "Themenfeld", "Topic area";
    contributors: "Beiträge", "Contributors";
    fewer_than: "weniger als", "fewer than";
    suppressed_explained: "Zahlen erscheinen erst, wenn mindestens so viele Betriebe etwas geteilt haben, damit niemand erkennbar wird.", "Figures appear only once at least this many businesses have shared something, so that nobody can be singled out.";
    progress: "Fortschritt der Maßnahmen", "Progress of measures";
    progress_caption: "Maßnahmen je Status aus den veröffentlichten Fortschrittsberichten", "Measures per status from the published progress summaries";
    status: "Status", "Status";
    count: "Anzahl", "Count";
    matches: "Wissensaustausch: Bedarf und Angebot", "Knowledge exchange: needs and offers";
    matches_caption: "Wer wem helfen kann", "Who can help whom";
    matches_empty: "Noch keine passenden Bedarfe und Angebote.", "No matching needs and offers yet.";
    need: "Bedarf", "Need";
    offer: "Angebot", "Offer";
    state: "Stand", "State";
    offerings_caption: "Gemeinsame Angebote und Plätze", "Joint offerings and seats";
    offerings_empty: "Noch keine gemeinsamen Angebote.", "No joint offerings yet.";
    offering: "Angebot", "Offering";
    seats: "Plätze", "Seats";
    min_seats: "Mindestplätze", "Minimum seats";
    seats_total: "Plätze gesamt", "Seats in total";
    seats_per_business: "Plätze je Betrieb", "Seats per business";
    offerings_csv: "Angebote als CSV herunterladen", "Download the offerings as CSV";
    min_reached: "Mindestzahl erreicht", "Minimum reached";
    min_not_reached: "Mindestzahl noch nicht erreicht", "Minimum not reached yet";
    next_dates: "Nächste Termine", "Next dates";
    next_dates_caption: "Treffen und Workshops", "Meetings and workshops";
    next_dates_empty: "Keine Termine geplant.", "No dates planned.";
    date: "Datum", "Date";
    time: "Uhrzeit", "Time";
    title: "Titel", "Title";
    place: "Ort", "Place";
    kind: "Art", "Kind";
    meeting: "Treffen", "Meeting";
    workshop: "Workshop", "Workshop";
    live_updated: "Aktualisiert", "Updated";
    add_business: "Betrieb aufnehmen", "Add a business";
    business_name: "Name des Betriebs", "Business name";
    trade: "Gewerk", "Trade";
    size_band: "Beschäftigte", "Staff";
    add: "Hinzufügen", "Add";
    save: "Speichern", "Save";
    people: "Personen", "People";
    people_caption: "Personen des Betriebs, ihre Geräte und Sitzungen", "People of the business, their devices and sessions";
    person: "Person", "Person";
    role: "Rolle", "Role";
    role_owner: "Inhaber/in", "Owner";
    role_staff: "Mitarbeiter/in", "Staff";
    role_coach: "Coach", "Coach";
    role_coordinator: "Koordination", "Coordinator";
    role_admin: "Administration", "Administrator";
    access_col: "Geräte und Sitzungen", "Devices and sessions";
    last_used: "zuletzt", "last";
    never_used: "noch nie benutzt", "never used";
    no_access_yet: "noch kein Gerät, keine Sitzung", "no device or session yet";
    device: "Gerät", "Device";
    web_session: "Browser", "Browser";
    revoke: "Beenden", "End";
    invite_person: "Person einladen", "Invite a person";
    invite: "Einladen", "Invite";
    invite_link_title: "Einladungslink", "Invitation link";
    invite_link_intro: "Geben Sie diesen Link nur an die eingeladene Person weiter. Er gilt einmal und 14 Tage lang und wird nur jetzt angezeigt.", "Give this link to the invited person only. It works once, for 14 days, and is shown only now.";
    invite_copy: "Link kopieren", "Copy link";
    invite_print: "Drucken", "Print";
    name: "Name", "Name";
    coach: "Coach", "Coach";
    assign_coach: "Coach zuordnen", "Assign coach";
    unassign_coach: "Zuordnung aufheben", "Unassign";
    no_coach: "kein Coach zugeordnet", "no coach assigned";
    choose: "Bitte wählen", "Please choose";
    business_leaves: "Betrieb verlässt die Nachbarschaft", "Business leaves the neighbourhood";
    business_left: "ausgeschieden", "left";
    confirm_leave: "Ja, der Betrieb verlässt die Nachbarschaft", "Yes, the business leaves the neighbourhood";
    done: "Erledigt.", "Done.";
    required_field: "Bitte ausfüllen.", "Please fill this in.";
    new_workshop: "Workshop planen", "Plan a workshop";
    workshops_caption: "Workshops der Nachbarschaft", "Workshops of the neighbourhood";
    workshops_empty: "Noch keine Workshops.", "No workshops yet.";
    workshop_kind: "Format", "Format";
    start: "Beginn", "Start";
    end: "Ende", "End";
    goal: "Ziel", "Goal";
    guiding_question: "Leitfrage", "Guiding question";
    plan: "Planung", "Plan";
    invitations: "Einladungen", "Invitations";
    invited: "eingeladen", "invited";
    invite_business: "Betrieb einladen", "Invite business";
    agenda: "Ablauf", "Agenda";
    agenda_caption: "Ablauf mit berechneten Anfangszeiten", "Agenda with computed start times";
    agenda_empty: "Noch keine Programmpunkte.", "No agenda blocks yet.";
    block: "Programmpunkt", "Agenda block";
    add_block: "Programmpunkt hinzufügen", "Add agenda block";
    duration_min: "Dauer (Minuten)", "Duration (minutes)";
    actual_min: "Tatsächlich (Minuten)", "Actual (minutes)";
    move_up: "Nach oben", "Move up";
    move_down: "Nach unten", "Move down";
    remove: "Entfernen", "Remove";
    overrun_warning: "Der Ablauf passt nicht in die Zeit: geplant sind {planned} Minuten, verfügbar {slot}.", "The agenda does not fit the time slot: {planned} minutes planned, {slot} available.";
    planned_total: "Geplant insgesamt", "Planned in total";
    minutes: "Minuten", "minutes";
    decisions: "Entscheidungen", "Decisions";
    parking_lot: "Themenspeicher", "Parking lot";
    outcomes: "Ergebnisse und nächste Schritte", "Outcomes and next steps";
    follow_up_for: "Nächster Schritt für", "Follow-up for";
    no_business: "kein Betrieb", "no business";
    follow_up_hint: "Ein Ergebnis für einen Betrieb erscheint bei dessen Coach als Vorschlag für eine Maßnahme.", "An outcome for a business reaches its coach as a suggested measure.";
    suggested_measure: "Vorschlag für eine Maßnahme", "Suggested measure";
    text: "Text", "Text";
    print_agenda: "Ablauf drucken", "Print agenda";
    workshop_status: "Status des Workshops", "Workshop status";
    new_offering: "Gemeinsames Angebot anlegen", "Create a joint offering";
    provider: "Anbieter", "Provider";
    cost_model: "Kosten", "Cost";
    cost_eur: "Kosten in Euro", "Cost in euros";
    add_date: "Termin hinzufügen", "Add date";
    seat_interest: "Interesse je Betrieb", "Interest per business";
    seat_interest_hint: "Nur Betriebe, die ihr Interesse teilen, erscheinen hier.", "Only businesses that share their interest appear here.";
    dates: "Termine", "Dates";
    change_status: "Status ändern", "Change status";
    documents: "Was Sie lesen dürfen", "What you may read";
    documents_caption: "Dokumente", "Documents";
    documents_empty: "Noch keine Dokumente.", "No documents yet.";
    document: "Dokument", "Document";
    coach_home_title: "Ihre Betriebe", "Your businesses";
    business_home_title: "Ihr Betrieb", "Your business";
    admin_home_title: "Nachbarschaften", "Neighbourhoods";
    read_only: "nur lesen", "read only";
    writable: "bearbeiten", "edit";
    location: "Ort", "Location";
    members: "Mitgliedsbetriebe", "Member businesses";
    skew_hint: "Uhrzeit des Geräts weicht ab", "device clock is off";
    updated_live: "Diese Seite aktualisiert sich von selbst.", "This page updates by itself.";
}
}

/// The language of a request: the switch's cookie, else the first supported language of
/// `Accept-Language` (by quality), else German.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    match cookies::get(headers, LANG_COOKIE).as_deref() {
        Some("de") => return Lang::De,
        Some("en") => return Lang::En,
        _ => {}
    }
    let Some(accept) = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::De;
    };
    let mut best: Option<(f32, Lang)> = None;
    for part in accept.split(',').take(16) {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let lang = if tag == "de" || tag.starts_with("de-") {
            Lang::De
        } else if tag == "en" || tag.starts_with("en-") {
            Lang::En
        } else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::De, |(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_switch_beats_accept_language_which_beats_german() {
        assert_eq!(lang_of(&headers(&[])), Lang::De);
        assert_eq!(
            lang_of(&headers(&[("accept-language", "en-GB,en;q=0.9")])),
            Lang::En
        );
        assert_eq!(
            lang_of(&headers(&[(
                "accept-language",
                "fr-FR, en;q=0.5, de;q=0.8"
            )])),
            Lang::De
        );
        assert_eq!(
            lang_of(&headers(&[("accept-language", "fr, it")])),
            Lang::De
        );
        assert_eq!(
            lang_of(&headers(&[
                ("accept-language", "en-GB"),
                ("cookie", "a=b; nachbar_lang=de")
            ])),
            Lang::De
        );
        assert_eq!(
            lang_of(&headers(&[("cookie", "nachbar_lang=en")])),
            Lang::En
        );
    }

    #[test]
    fn both_languages_differ_where_they_should() {
        assert_eq!(Texts::of(Lang::De).lang_code, "de");
        assert_eq!(Texts::of(Lang::En).lang_code, "en");
        assert_ne!(DE.sign_in, EN.sign_in);
    }
}
