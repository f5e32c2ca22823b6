// Progressive enhancement only: every page works without this script.
// Situational questions: submit as soon as an answer changes, so the material list narrows at once.
document.addEventListener('DOMContentLoaded', () => {
  for (const form of document.querySelectorAll('form[data-autosubmit]')) {
    form.addEventListener('change', () => form.requestSubmit());
  }
});
