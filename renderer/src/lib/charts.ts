/** chart.js with only the pieces the views use, animations off (a person wants the numbers, tests want no waits). */
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
  type ChartConfiguration,
  type ChartType,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, ScatterController, Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.color = '#9aa3b2';
Chart.defaults.borderColor = '#2f3440';
Chart.defaults.maintainAspectRatio = false;

export { Chart };
export type { ChartConfiguration, ChartType };

export const CLASS_COLOURS = ['#f08c4a', '#3ecf8e', '#b38cff', '#5aa9ff', '#f5a524', '#ff5d5d'];
export const SPLIT_COLOURS: Record<string, string> = {
  unassigned: '#6b7280',
  train: '#5aa9ff',
  val: '#f5a524',
  test: '#b38cff',
  submission: '#3ecf8e',
};
