import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { convert as htmlToText, type FormatCallback } from 'html-to-text';
import mammoth from 'mammoth';
import MarkdownIt from 'markdown-it';
import { extractText, getDocumentProxy } from 'unpdf';
import { AppError, type DocumentFormat } from '@contracts';
import type { Section } from '@libs/knowledge';

/**
 * Files to sections of plain text, with well-kept parsers only (a library of its own: retrieval indexes
 * with it, and the knowledge evaluation maps citations back to sections with it, without loading the
 * parsers into the gateway). Section 0 is whatever comes before the
 * first level-2 heading (Markdown `## `, HTML/DOCX `<h2>`); section n is the n-th such heading's, so
 * citations map back to a document's own structure. FAQ sheets give one section per data row (row n is
 * section n) and PDFs one per page (page n is section n).
 */
export async function parseDocument(format: DocumentFormat, content: Buffer): Promise<Section[]> {
  try {
    switch (format) {
      case 'markdown':
        return markdownSections(content.toString('utf8'));
      case 'html':
        return htmlSections(content.toString('utf8'));
      case 'text':
        return [{ heading: null, text: content.toString('utf8') }];
      case 'pdf':
        return await pdfSections(content);
      case 'docx':
        return htmlSections((await mammoth.convertToHtml({ buffer: content })).value);
      case 'xlsx':
        return faqSections(await xlsxRows(content));
      case 'csv':
        return faqSections(csvRows(content));
      default: {
        const unexpected: never = format;
        throw new Error(`no parser for ${String(unexpected)}`);
      }
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('validation-failed', `the file is not valid ${format}: ${describe(error)}`, {
      reason: 'unparseable',
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const markdown = new MarkdownIt({ html: false, linkify: false });

function markdownSections(source: string): Section[] {
  const sections: Section[] = [];
  let heading: string | null = null;
  let lines: string[] = [];
  const flush = () => sections.push({ heading, text: htmlToPlain(markdown.render(lines.join('\n'))) });
  let fenced = false;
  for (const line of source.split(/\r?\n/)) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    const h2 = fenced ? null : /^##\s+(.*?)\s*#*\s*$/.exec(line);
    if (h2) {
      flush();
      heading = h2[1] ?? '';
      lines = [];
    } else {
      lines.push(line);
    }
  }
  flush();
  return sections;
}

const SECTION_MARK = '\u241e';

const sectionBreak: FormatCallback = (elem, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addLiteral(SECTION_MARK);
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 1 });
};

const HTML_OPTIONS = {
  wordwrap: false as const,
  formatters: { sectionBreak },
  selectors: [
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', format: 'sectionBreak' },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'nav', format: 'skip' },
  ],
};

function htmlToPlain(html: string): string {
  return htmlToText(html, HTML_OPTIONS).replaceAll(SECTION_MARK, '');
}

function htmlSections(html: string): Section[] {
  const [before = '', ...rest] = htmlToText(html, HTML_OPTIONS).split(SECTION_MARK);
  return [
    { heading: null, text: before },
    ...rest.map((part) => {
      const newline = part.indexOf('\n');
      const heading = (newline < 0 ? part : part.slice(0, newline)).trim();
      return { heading, text: newline < 0 ? '' : part.slice(newline + 1) };
    }),
  ];
}

async function pdfSections(content: Buffer): Promise<Section[]> {
  const pdf = await getDocumentProxy(new Uint8Array(content));
  const { text } = await extractText(pdf, { mergePages: false });
  return [{ heading: null, text: '' }, ...text.map((page) => ({ heading: null, text: page }))];
}

interface FaqRow {
  question: string;
  answer: string;
}

const QUESTION_COLUMNS = ['question', 'q', '问题', '問題'];
const ANSWER_COLUMNS = ['answer', 'a', '答案', '回答', '答复'];

function faqSections(rows: FaqRow[]): Section[] {
  return [
    { heading: null, text: '' },
    ...rows.map((row) => ({ heading: row.question, text: `${row.question}\n${row.answer}` })),
  ];
}

/** Finds the question and answer columns in a header row, or says which are missing. */
function faqColumns(header: string[]): { question: number; answer: number } {
  const find = (names: string[]) => header.findIndex((cell) => names.includes(cell.trim().toLowerCase()));
  const question = find(QUESTION_COLUMNS);
  const answer = find(ANSWER_COLUMNS);
  if (question < 0 || answer < 0) {
    throw new AppError(
      'validation-failed',
      `an FAQ sheet needs question and answer columns; got ${header.join(', ')}`,
      {
        reason: 'unparseable',
      },
    );
  }
  return { question, answer };
}

function csvRows(content: Buffer): FaqRow[] {
  const records: string[][] = parseCsv(content, {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
  });
  const [header = [], ...data] = records;
  const columns = faqColumns(header);
  return data
    .map((row) => ({
      question: (row[columns.question] ?? '').trim(),
      answer: (row[columns.answer] ?? '').trim(),
    }))
    .filter((row) => row.question.length > 0 || row.answer.length > 0);
}

async function xlsxRows(content: Buffer): Promise<FaqRow[]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(content as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0];
  if (!sheet) return [];
  const cells = (row: ExcelJS.Row) => {
    const values: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, column) => {
      values[column - 1] = cell.text;
    });
    return values;
  };
  const columns = faqColumns(cells(sheet.getRow(1)));
  const rows: FaqRow[] = [];
  sheet.eachRow((row, number) => {
    if (number === 1) return;
    const values = cells(row);
    const question = (values[columns.question] ?? '').trim();
    const answer = (values[columns.answer] ?? '').trim();
    if (question.length > 0 || answer.length > 0) rows.push({ question, answer });
  });
  return rows;
}
