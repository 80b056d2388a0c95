import { mount } from 'svelte';
import App from './App.svelte';
import { app } from './lib/state/app.svelte';
import { library } from './lib/state/library.svelte';
import './app.css';

// The studio opens on the Library: its first page and the library's facts are asked for before the first
// render, which then runs while they travel (the request used to wait for the mount, ~150 ms).
if (app.view === 'library') library.prefetch();
void app.refresh();

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });
