//! The words of the PDF reports that the pages do not already have, in German and English.

use crate::web::i18n::texts;

texts! {
    /// Every report-only text in one language.
    ReportTexts, REPORT_DE, REPORT_EN {
    region: "DE", "GB";
    page: "Seite", "Page";
    of: "von", "of";
    generated: "Erstellt am {date} mit nachbar", "Generated on {date} with nachbar";
    plan_title: "Maßnahmenplan", "Action plan";
    results_title: "Ergebnis der Bestandsaufnahme", "Assessment result";
    summary_title: "Bericht der Digitalisierungsnachbarschaft", "Digitalisation neighbourhood report";
    version: "Stand des Dokuments", "Document version";
    covers: "umfasst Stand", "covers version";
    changed_line: "Seit der Zustimmung geändert: die Zustimmung gilt für einen früheren Stand.", "Changed since sign-off: the sign-off covers an earlier version.";
    no_sign_offs: "Noch keine Zustimmung.", "Not signed off yet.";
    no_goals: "Keine Ziele festgelegt.", "No goals set.";
    measure: "Maßnahme", "Measure";
    kpi: "Erfolgskriterium", "Success criterion";
    businesses: "Teilnehmende Betriebe", "Businesses taking part";
    location: "Ort", "Location";
    workshops_held: "Durchgeführte Workshops", "Workshops held";
    no_workshops_held: "Noch keine Workshops durchgeführt.", "No workshops held yet.";
    participants: "Teilnehmende", "Participants";
    matches_made: "Vermittelter Wissensaustausch", "Knowledge matches made";
    no_matches_made: "Noch kein Austausch vermittelt.", "No matches made yet.";
    privacy_note: "Dieser Bericht enthält keine vertraulichen Inhalte: keine Bestandsaufnahmen, keine Maßnahmenpläne und Zahlen je Themenfeld erst ab {n} Betrieben.", "This report holds nothing confidential: no assessments, no action plans, and figures per topic area only from {n} businesses.";
    }
}
