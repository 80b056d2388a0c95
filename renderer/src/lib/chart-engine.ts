/**
 * chart.js with only the pieces the views use, animations off (a person wants the numbers, tests want no waits).
 * Loaded on demand by ChartCanvas (`import()`): it is most of the page's code, and the Library, where the
 * studio opens, draws no chart.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, ScatterController, Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.color = '#9aa3b2';
Chart.defaults.borderColor = '#2f3440';
Chart.defaults.maintainAspectRatio = false;

export { Chart };
