// Progressive enhancement only: every page works without this script.
// Situational questions: submit as soon as an answer changes, so the material list narrows at once.
document.addEventListener('DOMContentLoaded', () => {
  for (const form of document.querySelectorAll('form[data-autosubmit]')) {
    form.addEventListener('change', () => form.requestSubmit());
  }
});

// One-sentence assistant (一句话办事): answers under the search box as you type, from /api/v1/ask.
// Without this script the form submits to /ask, which renders the same answers on the server.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form[data-ask]');
  const list = document.getElementById('ask-results');
  if (!form || !list) return;
  const input = form.querySelector('input[name=q]');
  const zh = document.documentElement.lang !== 'en';
  let timer = 0;
  let asked = '';
  const text = (tag, className, content) => {
    const element = document.createElement(tag);
    if (className) element.className = className;
    element.textContent = content;
    return element;
  };
  const show = (answers) => {
    list.replaceChildren();
    for (const answer of answers) {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = answer.url;
      const kind = answer.kind === 'bundle' ? (zh ? '一件事' : 'bundle') : (zh ? '事项' : 'item');
      link.append(text('span', `kind kind-${answer.kind}`, kind), ' ', text('strong', '', answer.name));
      item.append(link);
      item.append(text('span', 'why', (zh ? '匹配:' : 'Matched: ') + answer.why.join('、')));
      item.append(text('span', 'step', (zh ? '第一步:' : 'First step: ') + answer.first_step));
      list.append(item);
    }
    list.hidden = answers.length === 0;
  };
  const ask = async () => {
    const question = input.value.trim();
    if (question === asked) return;
    asked = question;
    if (!question) { show([]); return; }
    try {
      const response = await fetch(`/api/v1/ask?q=${encodeURIComponent(question)}&limit=5`);
      if (!response.ok || question !== input.value.trim()) return;
      show((await response.json()).answers);
    } catch {
      // Offline or server gone: the form still submits to /ask.
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
});
