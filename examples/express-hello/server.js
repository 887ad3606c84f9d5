'use strict';
// A typical small Express app, written the way people write them: it keeps its data next to
// its code (./data, listed in .gitignore) and reads its session secret from the environment.
const fs = require('fs');
const path = require('path');
const express = require('express');
const cookieParser = require('cookie-parser');

const app = express();
const port = process.env.PORT || 3000;
const dataDir = path.join(__dirname, 'data');
const notesFile = path.join(dataDir, 'notes.json');

fs.mkdirSync(dataDir, { recursive: true });
app.disable('x-powered-by');
app.use(cookieParser(process.env.SESSION_SECRET));
app.use(express.json());
app.use(express.static(path.join(__dirname, 'public')));

const readNotes = () => (fs.existsSync(notesFile) ? JSON.parse(fs.readFileSync(notesFile, 'utf8')) : []);

app.get('/', (req, res) => {
  const visits = Number(req.signedCookies.visits || 0) + 1;
  res.cookie('visits', String(visits), { signed: true, httpOnly: true, sameSite: 'lax' });
  res.type('html').send(`<!doctype html><title>express-hello</title><link rel="stylesheet" href="/style.css">
<h1>Hello from express-hello</h1><p>${readNotes().length} notes stored. Visit ${visits}.</p>`);
});

app.get('/healthz', (req, res) => res.json({ ok: true }));

app.get('/notes', (req, res) => res.json(readNotes()));

app.post('/notes', (req, res) => {
  const text = String((req.body && req.body.text) || '').slice(0, 500);
  if (!text) return res.status(400).json({ error: 'text is required' });
  const notes = readNotes();
  notes.push({ id: notes.length + 1, text });
  fs.writeFileSync(notesFile, JSON.stringify(notes));
  res.status(201).json(notes[notes.length - 1]);
});

app.listen(port, () => console.log(`express-hello listening on ${port}`));
